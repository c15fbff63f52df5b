"""The scratchpad simulator by hand, the ILP against exhaustive search, and the baselines' expected ranking."""

import pytest

from kernelbench.discovery import load_discovery_problem
from kernelbench.problem import load_module
from tests.conftest import BUNDLED

sp = load_discovery_problem("scratchpad_planning")


def fork_join():
    """x feeds two ops whose outputs meet: at 9 KiB one 4 KiB intermediate must go out and come back."""
    g = sp.GraphBuilder("fork_join")
    x = g.input("x", 4)
    y = g.op("f", [x], 4)
    z = g.op("g", [x], 4)
    g.op("h", [y, z], 1)
    return g.build()


def test_spilling_a_dirty_intermediate_costs_a_write_and_a_read():
    graph = fork_join()
    assert graph.compulsory_bytes() == 4 + 1 and graph.capacity(0.0) == 9
    assert sp.simulate(graph, 9, [0, 1, 2], sp.lru) == 8          # write y, read y back
    assert sp.simulate(graph, 13, [0, 1, 2], sp.lru) == 0
    assert sp.ilp_optimum(graph, 9) == 8


def test_evicting_a_clean_input_costs_only_the_reload():
    g = sp.GraphBuilder("reuse")
    w = g.input("w", 3)
    a = g.op("a", [w], 4)
    b = g.op("b", [a], 4)
    g.op("c", [b, w], 1)
    graph = g.build()
    # at 8 KiB, w (clean, used again last) must leave for b's working set and be read again: 3 KiB
    assert sp.simulate(graph, 8, [0, 1, 2], sp.lru) == 3
    assert sp.ilp_optimum(graph, 8) == 3


def test_bad_schedules_and_victims_are_errors():
    graph = fork_join()
    with pytest.raises(ValueError, match="runs h before g"):
        sp.simulate(graph, 9, [0, 2, 1], sp.lru)
    with pytest.raises(ValueError, match="permutation"):
        sp.simulate(graph, 9, [0, 0, 1], sp.lru)
    with pytest.raises(ValueError, match="not a candidate"):
        sp.simulate(graph, 9, [0, 1, 2], lambda candidates, step: 99)
    with pytest.raises(ValueError, match="does not fit"):
        sp.simulate(graph, 8, [0, 1, 2], sp.lru)


def topological_orders(graph, prefix=()):
    if len(prefix) == len(graph.ops):
        yield list(prefix)
        return
    done = {graph.ops[o].output for o in prefix}
    for op in graph.ops:
        if op.index not in prefix and all(graph.tensors[k].producer is None or k in done for k in op.inputs):
            yield from topological_orders(graph, prefix + (op.index,))


def best_eviction(graph, capacity, order):
    """Every sequence of eviction choices, odometer-style."""
    best, prefix = None, []
    while True:
        options: list[int] = []

        def evict(candidates, step):
            choice = prefix[len(options)] if len(options) < len(prefix) else 0
            options.append(len(candidates))
            return sorted(c.index for c in candidates)[choice]

        traffic = sp.simulate(graph, capacity, order, evict)
        best = traffic if best is None else min(best, traffic)
        choices = (prefix + [0] * len(options))[: len(options)]
        while choices and choices[-1] + 1 >= options[len(choices) - 1]:
            choices.pop()
        if not choices:
            return best
        prefix = choices[:-1] + [choices[-1] + 1]


@pytest.mark.parametrize("seed,ops", [(4, 8), (8, 9), (9, 9)])   # order and eviction both matter here
def test_ilp_is_the_exhaustive_optimum_on_small_graphs(seed, ops):
    graph = sp.random_dag(seed, ops)
    for fraction in (0.0, 0.05):
        capacity = graph.capacity(fraction)
        exhaustive = min(best_eviction(graph, capacity, order) for order in topological_orders(graph))
        assert sp.ilp_optimum(graph, capacity) == exhaustive


def test_baselines_rank_as_expected():
    graphs = sp.training_graphs()
    lru = sp.evaluate_policy(*sp.BASELINES["topo_lru"], graphs)
    belady = sp.evaluate_policy(*sp.BASELINES["topo_belady"], graphs)
    assert 0.0 < belady["extra_mean"] < lru["extra_mean"]
    for graph in [sp.random_dag(4, 10), sp.random_dag(5, 12), sp.mobilenet_blocks(1)]:
        capacity = graph.capacity(0.0)
        optimum = sp.ilp_optimum(graph, capacity)
        belady_traffic = sp.simulate(graph, capacity, sp.topological(graph), sp.belady)
        assert optimum <= belady_traffic <= sp.simulate(graph, capacity, sp.topological(graph), sp.lru)
        if graph.name == "random5x12":
            assert optimum < belady_traffic / 2       # reordering pays: 145 vs 320 KiB


def test_seed_is_the_topological_lru_baseline():
    seed = load_module(BUNDLED / "scratchpad_seed.py", prefix="scratchpad_seed")
    graphs = sp.training_graphs()
    assert [seed.schedule(g) for g in graphs] == [sp.topological(g) for g in graphs]
    assert sp.evaluate(seed, "train") == sp.evaluate_policy(*sp.BASELINES["topo_lru"], graphs)
