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


def test_offline_campaign_beats_lru(ray_session, tmp_path):
    summary = start_campaign(REPO / "runs" / "kv_eviction_offline.toml", runs_root=tmp_path,
                             overrides=["budget.iterations=30", "pipeline.proposals_in_flight=1"], show_progress=False)
    kv = load_discovery_problem("kv_cache_eviction")
    lru = kv.evaluate_priority(kv.lru, kv.TRAIN_SEEDS)["saved_mean"]
    assert summary.status == "finished" and summary.attempts == 30
    assert summary.best_score > lru + 0.005


def test_offline_campaign_beats_round_robin_scheduling(ray_session, tmp_path):
    summary = start_campaign(REPO / "runs" / "scheduling_offline.toml", runs_root=tmp_path,
                             overrides=["budget.iterations=30", "pipeline.proposals_in_flight=1"], show_progress=False)
    sched = load_discovery_problem("speed_prediction_scheduling")
    greedy = sched.evaluate_assign(sched.greedy_wspt, sched.TRAIN_SEEDS)["ratio_mean"]
    round_robin = sched.evaluate_assign(sched.round_robin, sched.TRAIN_SEEDS)["ratio_mean"]
    assert summary.status == "finished"
    # the score is the oriented (negated) ratio; the seed is greedy WSPT, which weight tuning alone does not beat
    assert -summary.best_score <= greedy < round_robin - 2.0


def test_offline_campaign_beats_topological_lru_scratchpad(ray_session, tmp_path):
    summary = start_campaign(REPO / "runs" / "scratchpad_offline.toml", runs_root=tmp_path,
                             overrides=["budget.iterations=30", "pipeline.proposals_in_flight=1"], show_progress=False)
    sp = load_discovery_problem("scratchpad_planning")
    baseline = sp.evaluate_policy(*sp.BASELINES["topo_lru"], sp.training_graphs())["extra_mean"]
    assert summary.status == "finished"
    assert -summary.best_score < baseline - 0.05


def test_offline_campaign_beats_round_robin_routing(ray_session, tmp_path):
    summary = start_campaign(REPO / "runs" / "routing_offline.toml", runs_root=tmp_path,
                             overrides=["budget.iterations=20", "pipeline.proposals_in_flight=1"], show_progress=False)
    rt = load_discovery_problem("llm_serving_routing")
    round_robin = rt.evaluate_route(rt.round_robin, rt.TRAIN_SEEDS)["goodput_mean"]
    least_loaded = rt.evaluate_route(rt.least_loaded, rt.TRAIN_SEEDS)["goodput_mean"]
    assert summary.status == "finished"
    assert least_loaded > round_robin + 0.1                          # the seed is least-loaded ...
    assert summary.best_score > least_loaded + 0.01                   # ... and evolution improves on it


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
