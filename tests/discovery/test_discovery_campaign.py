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


def test_offline_campaign_beats_greedy_scheduling(ray_session, tmp_path):
    summary = start_campaign(REPO / "runs" / "scheduling_offline.toml", runs_root=tmp_path,
                             overrides=["budget.iterations=30", "pipeline.proposals_in_flight=1"], show_progress=False)
    sched = load_discovery_problem("speed_prediction_scheduling")
    greedy = sched.evaluate_assign(sched.greedy_wspt, sched.TRAIN_SEEDS)["ratio_mean"]
    assert summary.status == "finished"
    assert -summary.best_score < greedy - 0.01      # the score is the oriented (negated) ratio


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
    assert summary.best_score >= least_loaded > round_robin + 0.1     # the seed is least-loaded
