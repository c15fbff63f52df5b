"""The prefix KV-cache simulator against hand-computed cases, and its baselines ranked as theory says."""

import types

import pytest

from kernelbench.discovery import load_discovery_problem

kv = load_discovery_problem("kv_cache_eviction")


def trace(*requests):
    return kv.Trace(tuple(tuple(r) for r in requests))


def test_prefix_reuse_by_hand():
    requests = trace((1, 2), (1, 3), (1, 2))
    assert kv.simulate(requests, 3, kv.lru) == pytest.approx(3 / 6)      # 0 + 1 + 2 blocks reused
    assert kv.simulate(requests, 2, kv.lru) == pytest.approx(2 / 6)      # 2 is evicted for 3, 3 for 2


def test_belady_keeps_the_block_used_again_and_lru_does_not():
    requests = trace((1, 2), (1, 3), (1, 4), (1, 2))
    assert kv.simulate(requests, 3, kv.lru) == pytest.approx(3 / 8)
    assert kv.simulate(requests, 3, kv.belady, future=True) == pytest.approx(4 / 8)


def test_only_leaves_outside_the_current_request_are_evicted():
    cache = kv.PrefixCache(3, kv.lru)
    never = lambda key: 10**9  # noqa: E731
    cache.serve((1, 2, 3), 0, never)
    assert cache.serve((1, 2, 3, 4), 1, never) == 3
    assert set(cache.blocks) == {1, 2, 3}          # full, and every block is in the request: nothing evicted
    cache.serve((5,), 2, never)
    assert set(cache.blocks) == {1, 2, 5}          # 3 was the only leaf
    assert {key: block.children for key, block in cache.blocks.items()} == {1: 1, 2: 0, 5: 0}


def test_traces_are_deterministic_and_shared_prefixes_exist():
    first, again = kv.generate_trace(3), kv.generate_trace(3)
    assert first == again and first != kv.generate_trace(4)
    firsts = [r[0] for r in first.requests]
    assert len(set(firsts)) < len(firsts) / 4


def test_regenerated_turns_hit_leaves_so_recency_differs_from_insertion_order():
    trace = kv.generate_trace(0)
    assert sum(r in trace.requests[:i] for i, r in enumerate(trace.requests)) > 10       # a prompt resent as is
    assert kv.generate_trace(0, regenerate=0.0).requests != trace.requests
    # without regenerations no leaf is ever hit, and LRU evicts exactly what FIFO does
    plain = kv.generate_trace(0, regenerate=0.0)
    assert kv.simulate(plain, 64, kv.lru) == kv.simulate(plain, 64, kv.fifo)
    assert any(kv.simulate(trace, size, kv.lru) != kv.simulate(trace, size, kv.fifo) for size in kv.CACHE_SIZES)


def test_candidates_never_see_the_future():
    """A candidate that copies Belady's rule gets no next_use to read, so it scores nothing like Belady."""
    cheat = types.SimpleNamespace(priority=kv.belady)
    seen = []
    spy = types.SimpleNamespace(priority=lambda block, now, clock: seen.append(block.next_use) or now)
    kv.evaluate(spy, "train")
    assert set(seen) == {0}
    assert kv.evaluate(cheat, "train")["saved_mean"] < kv.evaluate_baseline("belady", "train")["saved_mean"] - 0.05


@pytest.mark.parametrize("size", kv.CACHE_SIZES)
def test_belady_is_the_ceiling_on_training_traces(size):
    traces = [kv.generate_trace(seed) for seed in kv.TRAIN_SEEDS]
    scores = {name: sum(kv.simulate(t, size, f, future=name == "belady") for t in traces)
              for name, f in kv.BASELINES.items()}
    assert scores["belady"] >= max(scores.values()) - 1e-12
    assert scores["belady"] > scores["lru"] or size == max(kv.CACHE_SIZES)


def test_mooncake_format_trace_loads_with_prefix_sharing(tmp_path):
    # three requests in the Mooncake JSONL layout (written here, not taken from the public trace)
    path = tmp_path / "trace.jsonl"
    path.write_text('{"timestamp": 0, "input_length": 1500, "output_length": 10, "hash_ids": [0, 1, 2]}\n'
                    '{"timestamp": 5, "input_length": 1200, "output_length": 3, "hash_ids": [0, 1, 7]}\n\n'
                    '{"timestamp": 9, "input_length": 600, "output_length": 8, "hash_ids": [5, 1]}\n')
    trace = kv.load_trace_jsonl(path)
    first, second, third = trace.requests
    assert first[:2] == second[:2] and first[2] != second[2]
    assert third[1] != first[1]                      # block 1 after a different prefix is a different block
    # a roomy cache reuses the shared two blocks of the second request: 2 of 8 blocks saved
    assert kv.simulate(trace, 100, kv.lru) == pytest.approx(2 / 8)
    assert len(kv.load_trace_jsonl(path, limit=2).requests) == 2


def test_malformed_trace_line_is_a_one_line_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"timestamp": 0, "hash_ids": [0]}\n{"timestamp": 1}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not a Mooncake trace line"):
        kv.load_trace_jsonl(path)
