"""Discovery problems through the real evaluator and a real (offline) campaign."""

import dataclasses

import pytest

from evaluators.config import EvalConfig, EvalRequest
from evaluators.records import FailureKind, Stage
from evolve.launch import start_campaign
from kernelbench.discovery import load_discovery_problem
from kernelbench.registry import resolve_problem
from tests.conftest import BUNDLED, REPO

SEED = (BUNDLED / "kv_eviction_seed.py").read_text()


def request(source: str) -> EvalRequest:
    return EvalRequest(resolve_problem("discovery/kv_cache_eviction"), source, EvalConfig())


def test_seed_is_scored_on_train_and_holdout(pool):
    result = pool.evaluate(request(SEED), timeout=300)
    assert result.passed and [s.stage for s in result.stages] == [Stage.COMPILE, Stage.VERIFY, Stage.PROFILE]
    kv = load_discovery_problem("kv_cache_eviction")
    assert result.metrics == pytest.approx(kv.evaluate_priority(kv.lru, kv.TRAIN_SEEDS))
    assert result.holdout_metrics == pytest.approx(kv.evaluate_priority(kv.lru, kv.HOLDOUT_SEEDS))


@pytest.mark.parametrize("source,stage,kind", [
    ("x = 1\n", Stage.COMPILE, FailureKind.NO_ENTRY_POINT),
    ("def priority(block, now, clock):\n    raise ValueError('no idea')\n", Stage.VERIFY, FailureKind.RUNTIME_ERROR),
    ("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n", Stage.COMPILE, FailureKind.SANDBOX_VIOLATION),
])
def test_broken_policies_fail_with_their_kind(pool, source, stage, kind):
    result = pool.evaluate(request(source), timeout=300)
    assert (result.failure.stage, result.failure.kind) == (stage, kind), result.failure


def offline_run(config: str, tmp_path, iterations: int = 30):
    """A finished offline campaign's best value in its objective's own units (not the negated score)."""
    summary = start_campaign(REPO / "runs" / config, runs_root=tmp_path, show_progress=False,
                             overrides=[f"budget.iterations={iterations}", "pipeline.proposals_in_flight=1"])
    assert summary.status == "finished" and summary.attempts == iterations
    return summary.best_value


def baseline(problem: str, name: str, metric: str) -> float:
    return load_discovery_problem(problem).evaluate_baseline(name, "train")[metric]


def test_offline_campaign_beats_lru(ray_session, tmp_path):
    best = offline_run("kv_eviction_offline.toml", tmp_path)
    assert best > baseline("kv_cache_eviction", "lru", "saved_mean") + 0.005


def test_offline_campaign_beats_round_robin_scheduling(ray_session, tmp_path):
    best = offline_run("scheduling_offline.toml", tmp_path)
    greedy = baseline("speed_prediction_scheduling", "greedy_wspt", "ratio_mean")
    # the seed is greedy WSPT, which weight tuning alone does not beat
    assert best <= greedy < baseline("speed_prediction_scheduling", "round_robin", "ratio_mean") - 2.0


def test_offline_campaign_beats_topological_lru_scratchpad(ray_session, tmp_path):
    best = offline_run("scratchpad_offline.toml", tmp_path)
    assert best < baseline("scratchpad_planning", "topo_lru", "extra_mean") - 0.05


def test_offline_campaign_beats_round_robin_routing(ray_session, tmp_path):
    best = offline_run("routing_offline.toml", tmp_path, iterations=20)
    least_loaded = baseline("llm_serving_routing", "least_loaded", "goodput_mean")
    assert least_loaded > baseline("llm_serving_routing", "round_robin", "goodput_mean") + 0.1  # the seed ...
    assert best > least_loaded + 0.01                                                           # ... improved


LLM_POLICY = SEED.replace("FREQUENCY_WEIGHT = 0.0", "FREQUENCY_WEIGHT = 0.5").replace("DEPTH_WEIGHT = 0.0", "DEPTH_WEIGHT = 2.0")


def test_llm_campaign_on_a_discovery_problem_is_told_its_objective(ray_session, tmp_path):
    from tests.evolve.test_campaign_llm import role
    from tests.scripted_llm_server import ScriptedOpenAIServer, Step

    script = {"coder-model": [Step(f"```python\n{LLM_POLICY}```"),
                              Step(f"```python\n{LLM_POLICY.replace('def priority', 'def prio')}```")]}
    fallback = {"planner-model": Step("STRATEGY: weigh hits\nINSTRUCTIONS:\n- [L9] raise FREQUENCY_WEIGHT")}
    with ScriptedOpenAIServer(script, fallback) as server:
        config = tmp_path / "kv.toml"
        text = (f'[campaign]\nname = "kv-llm"\nproblem = "discovery/kv_cache_eviction"\n'
                f'seed_program = "{BUNDLED / "kv_eviction_seed.py"}"\n[budget]\niterations = 2\n'
                f'[pipeline]\nproposals_in_flight = 1\nrepair_attempts = 0\n[evolve]\nislands = 1\n[[evolve.objectives]]\n'
                f'name = "saved_mean"\ndirection = "max"\n')
        for name in ("planner", "coder", "reviewer"):
            text += f"[agents.{name}]\n" + role(name, server.base_url)
        config.write_text(text)
        summary = start_campaign(config, runs_root=tmp_path / "runs", show_progress=False)
        systems = {body["model"]: body["messages"][0]["content"] for body in server.requests}
        planner_prompt = next(b for b in server.requests if b["model"] == "planner-model")["messages"][-1]["content"]
    assert "deterministic simulator on saved_mean (higher is better)" in systems["planner-model"]
    assert "Keep the functions `priority`" in systems["coder-model"] and "ModelNew" not in systems["coder-model"]
    assert "saved_mean 0.6" in planner_prompt and "Problem (simulator" in planner_prompt
    kv = load_discovery_problem("kv_cache_eviction")
    expected = kv.evaluate_priority(
        lambda block, now, clock: block.last_access + 0.5 * block.hits + 2.0 * block.depth, kv.TRAIN_SEEDS)
    assert summary.counts == {"evaluated": 2, "rejected": 1}
    assert summary.best_score == pytest.approx(max(expected["saved_mean"], kv.evaluate_priority(kv.lru, kv.TRAIN_SEEDS)["saved_mean"]))
