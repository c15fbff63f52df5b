"""The serving simulator by hand, and the routing baselines in the order queueing theory predicts."""

import pytest

from kernelbench.discovery import load_discovery_problem
from kernelbench.problem import load_module
from tests.conftest import BUNDLED

rt = load_discovery_problem("llm_serving_routing")

# round numbers: 0.1 s per iteration, 1 ms per prefill token, 10 ms per decoding sequence, no attention cost
SIMPLE = rt.Cluster(speeds=(1.0,), kv_tokens=1000, max_batch=8, prefill_budget=500, base_s=0.1,
                    prefill_s_per_token=0.001, decode_s_per_seq=0.01, attend_s_per_token=0.0)


def request(id, arrival, prompt, output):
    return rt.Request(id, arrival, prompt, output, output)


def times(workload, cluster=SIMPLE, route=rt.round_robin):
    finished = rt.Simulator(cluster, route).run(workload)
    return [(round(l.first_token, 6), round(l.done, 6)) for l in finished]


def test_one_request_by_hand():
    # prefill 100 tokens: 0.1 + 0.1 = 0.2; then two decode iterations of 0.1 + 0.01 each
    assert times([request(0, 0.0, 100, 3)]) == [(0.2, 0.42)]


def test_requests_arriving_together_share_an_iteration_on_a_faster_instance():
    fast = rt.Cluster(**{**SIMPLE.__dict__, "speeds": (2.0,)})
    # both prefilled at once: (0.1 + 0.2) / 2 = 0.15; one decode of the pair: (0.1 + 0.02) / 2 = 0.06
    assert times([request(0, 0.0, 100, 2), request(1, 0.0, 100, 2)], fast) == [(0.15, 0.21), (0.15, 0.21)]


def test_a_request_arriving_mid_iteration_waits_for_the_next_one():
    # r1 arrives at 0.05 while r0's prefill runs to 0.2; next iteration prefills r1 and decodes r0:
    # 0.1 + 0.1 + 0.01 = 0.21 → r0 done at 0.41, r1's first token at 0.41, r1 decodes alone: 0.11 → 0.52
    assert times([request(0, 0.0, 100, 2), request(1, 0.05, 100, 2)]) == [(0.2, 0.41), (0.41, 0.52)]


def test_a_full_kv_pool_blocks_the_queue_until_space_frees():
    roomy = rt.Cluster(**{**SIMPLE.__dict__, "prefill_budget": 1000})
    tight = rt.Cluster(**{**roomy.__dict__, "kv_tokens": 800})
    workload = [request(0, 0.0, 400, 2), request(1, 0.0, 400, 2)]
    # together: 0.1 + 0.8 = 0.9, then one decode of both: 0.12
    assert times(workload, roomy) == [(0.9, 1.02), (0.9, 1.02)]
    # 402 + 402 > 800: r1 waits for r0 (0.5 prefill, 0.11 decode) before its own 0.5 + 0.11
    assert times(workload, tight) == [(0.5, 0.61), (1.11, 1.22)]


def test_the_prefill_budget_splits_prompts_across_iterations():
    # 300 + 300 > 500: r1 waits one iteration (0.4), then is prefilled while r0 decodes: 0.1 + 0.3 + 0.01
    assert times([request(0, 0.0, 300, 2), request(1, 0.0, 300, 2)]) == [(0.4, 0.81), (0.81, 0.92)]


def test_bad_routes_and_oversized_requests_are_errors():
    with pytest.raises(ValueError, match="returned instance 3"):
        rt.Simulator(SIMPLE, lambda request, instances: 3).run([request(0, 0.0, 10, 2)])
    with pytest.raises(ValueError, match="returned instance 0.5"):
        rt.Simulator(SIMPLE, lambda request, instances: 0.5).run([request(0, 0.0, 10, 2)])
    assert times([request(0, 0.0, 100, 3)], route=lambda request, instances: __import__("numpy").int64(0)) == [(0.2, 0.42)]
    with pytest.raises(ValueError, match="more KV space"):
        rt.Simulator(SIMPLE, rt.round_robin).run([request(0, 0.0, 990, 20)])


def test_percentile_is_nearest_rank():
    assert rt.percentile(list(range(1, 101)), 99) == 99
    assert rt.percentile([5.0], 99) == 5.0


def test_baselines_rank_as_expected():
    metrics = {name: rt.evaluate_route(route, rt.TRAIN_SEEDS) for name, route in rt.BASELINES.items()}
    for name in ("least_loaded", "power_of_two"):
        assert metrics[name]["goodput@0.9"] > metrics["round_robin"]["goodput@0.9"] + 0.1
        assert metrics[name]["p99_ttft@0.9"] < metrics["round_robin"]["p99_ttft@0.9"]
    for values in metrics.values():
        assert values["goodput@0.5"] > values["goodput@0.7"] > values["goodput@0.9"]


def test_simulation_is_deterministic():
    workload = rt.generate_workload(3, 0.9)
    assert rt.serve(workload, rt.power_of_two) == rt.serve(rt.generate_workload(3, 0.9), rt.power_of_two)


def test_seed_is_the_least_loaded_baseline():
    seed = load_module(BUNDLED / "routing_seed.py", prefix="routing_seed")
    assert rt.evaluate(seed, "train") == rt.evaluate_route(rt.least_loaded, rt.TRAIN_SEEDS)
