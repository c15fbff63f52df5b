"""Accelerator scratchpad planning (COSMA-style): operator order plus tensor eviction for a small on-chip memory.

An operator runs only when its inputs and its output are all in the scratchpad.  Missing inputs are loaded
from off-chip memory; when space is short a resident tensor is evicted.  Evicting a tensor that is still
needed costs a reload later, and an intermediate that has no off-chip copy yet must also be written out
first (once).  A tensor whose last consumer has run is freed for nothing.  Loading each graph input (weights,
activations) once and writing each graph output once is compulsory; everything else is not.  The metric is
non-compulsory over compulsory off-chip bytes, at several scratchpad sizes between the largest single
operator's working set and the whole graph.

The evolved functions are `schedule(graph)` (a topological order of `graph.ops`) and `evict(candidates,
step)` (the index of the resident tensor to evict; `candidates` are `Resident` views).  The order is fixed
before execution, as a compiler would fix it, so next uses are known and Belady's rule is a real policy
(not optimal here: sizes differ and dirty tensors cost twice).  Baselines: topological order with LRU,
topological order with Belady, and the exact optimum of order and eviction together from an integer
program (`ilp_optimum`, scipy's HiGHS) on small graphs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CAPACITY_FRACTIONS = (0.0, 0.05, 0.15)
METRICS = {f"extra@{fraction:g}": "min" for fraction in CAPACITY_FRACTIONS} | {"extra_mean": "min"}
ENTRY_POINTS = ("schedule", "evict")


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    size: int
    producer: int | None


@dataclass(frozen=True)
class Op:
    index: int
    name: str
    inputs: tuple[int, ...]
    output: int


@dataclass(frozen=True)
class Graph:
    name: str
    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]

    def consumers(self, tensor: int) -> list[int]:
        return [op.index for op in self.ops if tensor in op.inputs]

    def working_set(self, op: Op) -> int:
        return sum(self.tensors[k].size for k in set(op.inputs) | {op.output})

    def input_bytes(self) -> int:
        """Graph inputs that some op reads: each must be loaded once."""
        used = {k for op in self.ops for k in op.inputs}
        return sum(t.size for t in self.tensors if t.producer is None and t.index in used)

    def compulsory_bytes(self) -> int:
        outputs = sum(t.size for t in self.tensors if t.producer is not None and not self.consumers(t.index))
        return self.input_bytes() + outputs

    def capacity(self, fraction: float) -> int:
        """The largest working set plus `fraction` of the gap up to holding every tensor at once."""
        floor = max(self.working_set(op) for op in self.ops)
        return floor + int(fraction * (sum(t.size for t in self.tensors) - floor))


@dataclass(frozen=True)
class Resident:
    """What an eviction policy may look at about one resident tensor."""

    index: int
    size: int
    dirty: bool               # no off-chip copy yet: evicting it costs a write now and a read later
    is_graph_input: bool
    last_use: int             # step that last touched it
    next_use: int             # step that needs it next
    remaining_uses: int


class GraphBuilder:
    def __init__(self, name: str):
        self.name, self.tensors, self.ops = name, [], []

    def input(self, name: str, size: int) -> int:
        self.tensors.append(Tensor(len(self.tensors), name, size, None))
        return len(self.tensors) - 1

    def op(self, name: str, inputs: Sequence[int], output_size: int) -> int:
        output = len(self.tensors)
        self.tensors.append(Tensor(output, name, output_size, len(self.ops)))
        self.ops.append(Op(len(self.ops), name, tuple(inputs), output))
        return output

    def build(self) -> Graph:
        return Graph(self.name, tuple(self.tensors), tuple(self.ops))


def _kib(*dims: int) -> int:
    """fp16 bytes of a tensor, in KiB."""
    size = 2
    for dim in dims:
        size *= dim
    return max(1, size // 1024)


def resnet_blocks(blocks: int = 2, hw: int = 28, channels: int = 256, width: int = 64) -> Graph:
    """Bottleneck blocks (1x1 → 3x3 → 1x1 + identity skip), chained."""
    g = GraphBuilder(f"resnet{blocks}x{channels}")
    x = g.input("x", _kib(hw, hw, channels))
    for b in range(blocks):
        a = g.op(f"b{b}.conv1", [x, g.input(f"b{b}.w1", _kib(channels, width))], _kib(hw, hw, width))
        a = g.op(f"b{b}.conv2", [a, g.input(f"b{b}.w2", _kib(9, width, width))], _kib(hw, hw, width))
        a = g.op(f"b{b}.conv3", [a, g.input(f"b{b}.w3", _kib(width, channels))], _kib(hw, hw, channels))
        x = g.op(f"b{b}.add", [a, x], _kib(hw, hw, channels))
    return g.build()


def mobilenet_blocks(blocks: int = 2, hw: int = 28, channels: int = 32, expand: int = 6) -> Graph:
    """Inverted residual blocks (expand 1x1 → depthwise 3x3 → project 1x1 + skip), chained."""
    g = GraphBuilder(f"mobilenet{blocks}x{channels}")
    x = g.input("x", _kib(hw, hw, channels))
    hidden = channels * expand
    for b in range(blocks):
        a = g.op(f"b{b}.expand", [x, g.input(f"b{b}.w_expand", _kib(channels, hidden))], _kib(hw, hw, hidden))
        a = g.op(f"b{b}.depthwise", [a, g.input(f"b{b}.w_dw", _kib(9, hidden))], _kib(hw, hw, hidden))
        a = g.op(f"b{b}.project", [a, g.input(f"b{b}.w_project", _kib(hidden, channels))], _kib(hw, hw, channels))
        x = g.op(f"b{b}.add", [a, x], _kib(hw, hw, channels))
    return g.build()


def transformer_layer(seq: int = 256, d: int = 512, heads: int = 8, ffn: int = 4) -> Graph:
    """Pre-norm attention + MLP; Q, K, V are independent, so the order has real choices."""
    g = GraphBuilder(f"transformer{seq}x{d}")
    act = _kib(seq, d)
    x = g.input("x", act)
    h = g.op("ln1", [x, g.input("ln1.w", _kib(d))], act)
    q = g.op("q", [h, g.input("w_q", _kib(d, d))], act)
    k = g.op("k", [h, g.input("w_k", _kib(d, d))], act)
    v = g.op("v", [h, g.input("w_v", _kib(d, d))], act)
    scores = g.op("scores", [q, k], _kib(heads, seq, seq))
    probs = g.op("softmax", [scores], _kib(heads, seq, seq))
    attn = g.op("attn", [probs, v], act)
    o = g.op("o", [attn, g.input("w_o", _kib(d, d))], act)
    x = g.op("add1", [o, x], act)
    h = g.op("ln2", [x, g.input("ln2.w", _kib(d))], act)
    up = g.op("up", [h, g.input("w_up", _kib(d, ffn * d))], _kib(seq, ffn * d))
    up = g.op("gelu", [up], _kib(seq, ffn * d))
    down = g.op("down", [up, g.input("w_down", _kib(ffn * d, d))], act)
    g.op("add2", [down, x], act)
    return g.build()


def random_dag(seed: int, ops: int = 24) -> Graph:
    """Each op reads one to three recent tensors (or a fresh weight); sizes vary over two orders of magnitude."""
    rng = random.Random(seed)
    g = GraphBuilder(f"random{seed}x{ops}")
    pool = [g.input("in0", rng.randint(16, 256)), g.input("in1", rng.randint(16, 256))]
    for index in range(ops):
        inputs = rng.sample(pool[-6:], min(len(pool[-6:]), rng.randint(1, 3)))
        if rng.random() < 0.4:
            inputs.append(g.input(f"w{index}", rng.randint(4, 128)))
        pool.append(g.op(f"op{index}", inputs, rng.choice((8, 32, 64, 128, 512))))
    return g.build()


def training_graphs() -> list[Graph]:
    """Random DAGs vary most from seed to seed, so there are eight of them: fewer and evolution overfits."""
    return [resnet_blocks(), mobilenet_blocks(), transformer_layer()] + [random_dag(seed) for seed in range(8)]


def holdout_graphs() -> list[Graph]:
    return ([resnet_blocks(3, hw=14, channels=512, width=128), mobilenet_blocks(3, hw=14, channels=64),
             transformer_layer(seq=512, d=384, heads=6)] + [random_dag(seed, 32) for seed in range(100, 106)])


def _check_order(graph: Graph, order: Sequence[int]) -> list[int]:
    order = [int(op) for op in order]
    if sorted(order) != list(range(len(graph.ops))):
        raise ValueError(f"schedule must be a permutation of the {len(graph.ops)} ops of {graph.name}")
    position = {op: step for step, op in enumerate(order)}
    for op in graph.ops:
        for k in op.inputs:
            producer = graph.tensors[k].producer
            if producer is not None and position[producer] > position[op.index]:
                raise ValueError(f"schedule runs {op.name} before {graph.ops[producer].name}, which it reads")
    return order


def simulate(graph: Graph, capacity: int, order: Sequence[int],
             evict: Callable[[list[Resident], int], int]) -> int:
    """Non-compulsory off-chip bytes (KiB) of running `order` with `evict` choosing victims."""
    order = _check_order(graph, order)
    uses: dict[int, list[int]] = {}
    for step, op in enumerate(order):
        for k in set(graph.ops[op].inputs):
            uses.setdefault(k, []).append(step)
    horizon = len(order)
    resident: dict[int, list] = {}           # tensor → [dirty, last_use]
    traffic = 0
    for step, op_index in enumerate(order):
        op = graph.ops[op_index]
        needed = set(op.inputs) | {op.output}
        missing = [k for k in set(op.inputs) if k not in resident]
        room = capacity - sum(graph.tensors[k].size for k in resident)
        want = sum(graph.tensors[k].size for k in missing) + graph.tensors[op.output].size
        while room < want:
            views = [Resident(k, graph.tensors[k].size, dirty, graph.tensors[k].producer is None, last,
                              uses[k][0] if uses.get(k) else horizon, len(uses.get(k, ())))
                     for k, (dirty, last) in resident.items() if k not in needed]
            if not views:
                raise ValueError(f"{graph.ops[op_index].name} does not fit in {capacity} KiB")
            victim = int(evict(views, step))
            if victim not in {view.index for view in views}:
                raise ValueError(f"evict returned tensor {victim}, which is not a candidate")
            dirty, _ = resident.pop(victim)
            traffic += graph.tensors[victim].size if dirty else 0
            room += graph.tensors[victim].size
        for k in missing:
            traffic += graph.tensors[k].size
            resident[k] = [False, step]
        resident[op.output] = [graph.tensors[op.output].producer is not None, step]
        for k in set(op.inputs):
            uses[k].pop(0)
            resident[k][1] = step
        for k in [k for k in resident if not uses.get(k)]:
            del resident[k]                   # dead, or a graph output written back (compulsory)
    return traffic - graph.input_bytes()


def extra_ratio(graph: Graph, fraction: float, schedule: Callable, evict: Callable) -> float:
    return simulate(graph, graph.capacity(fraction), schedule(graph), evict) / graph.compulsory_bytes()


def evaluate_policy(schedule: Callable, evict: Callable, graphs: Sequence[Graph]) -> dict[str, float]:
    metrics = {f"extra@{fraction:g}": sum(extra_ratio(g, fraction, schedule, evict) for g in graphs) / len(graphs)
               for fraction in CAPACITY_FRACTIONS}
    metrics["extra_mean"] = sum(metrics.values()) / len(CAPACITY_FRACTIONS)
    return metrics


def evaluate(candidate, split: str) -> dict[str, float]:
    """The discovery-problem interface: the candidate's `schedule` + `evict` on the train or holdout graphs."""
    return evaluate_policy(candidate.schedule, candidate.evict,
                           training_graphs() if split == "train" else holdout_graphs())


def topological(graph: Graph) -> list[int]:
    """Kahn's algorithm, lowest op index first: the order a naive compiler emits."""
    waiting = {op.index: {graph.tensors[k].producer for k in op.inputs} - {None} for op in graph.ops}
    order: list[int] = []
    while waiting:
        ready = min(op for op, deps in waiting.items() if not deps)
        order.append(ready)
        del waiting[ready]
        for deps in waiting.values():
            deps.discard(ready)
    return order


def lru(candidates: list[Resident], step: int) -> int:
    return min(candidates, key=lambda r: (r.last_use, r.index)).index


def belady(candidates: list[Resident], step: int) -> int:
    return max(candidates, key=lambda r: (r.next_use, r.size, -r.index)).index


BASELINES = {"topo_lru": (topological, lru), "topo_belady": (topological, belady)}


def evaluate_baseline(name: str, split: str) -> dict[str, float]:
    return evaluate_policy(*BASELINES[name], training_graphs() if split == "train" else holdout_graphs())


def ilp_optimum(graph: Graph, capacity: int, time_limit: float = 60.0) -> int:
    """The least non-compulsory traffic over every order and every eviction plan, from a time-indexed MILP.

    x[o,t]: op o runs at step t; r[k,t]: tensor k is resident at step t; l[k,t]: k is loaded at step t;
    s[k]: intermediate k is written out (once, if it is ever reloaded).  Prefetching and early eviction are
    allowed, so this bounds every lazy policy from below; the tests check it is reached on small graphs.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import lil_matrix

    n, tensors = len(graph.ops), graph.tensors
    count = n * n + 2 * len(tensors) * n + len(tensors)
    x = lambda o, t: o * n + t                                  # noqa: E731
    r = lambda k, t: n * n + k * n + t                           # noqa: E731
    ld = lambda k, t: n * n + len(tensors) * n + k * n + t        # noqa: E731
    st = lambda k: n * n + 2 * len(tensors) * n + k              # noqa: E731
    rows: list[tuple[dict[int, float], float, float]] = []
    for o in range(n):
        rows.append(({x(o, t): 1 for t in range(n)}, 1, 1))
    for t in range(n):
        rows.append(({x(o, t): 1 for o in range(n)}, 1, 1))
    for op in graph.ops:
        for producer in {tensors[k].producer for k in op.inputs} - {None}:
            rows.append(({**{x(op.index, t): t for t in range(n)}, **{x(producer, t): -t for t in range(n)}}, 1, n))
        for k in set(op.inputs) | {op.output}:
            rows.extend(({r(k, t): 1, x(op.index, t): -1}, 0, 1) for t in range(n))
    for t in range(n):
        rows.append(({r(k.index, t): k.size for k in tensors}, 0, capacity))
    for k in tensors:
        for t in range(n):
            load = {ld(k.index, t): 1, r(k.index, t): -1}
            if t:
                load[r(k.index, t - 1)] = 1
            if k.producer is not None:
                load[x(k.producer, t)] = load.get(x(k.producer, t), 0) + 1
                rows.append(({r(k.index, t): 1, **{x(k.producer, u): -1 for u in range(t + 1)}}, -1, 0))
                rows.append(({st(k.index): 1, ld(k.index, t): -1}, 0, 1))
            rows.append((load, 0, 2))
    matrix = lil_matrix((len(rows), count))
    for row, (coefficients, _, _) in enumerate(rows):
        for column, value in coefficients.items():
            matrix[row, column] = value
    cost = np.zeros(count)
    for k in tensors:
        cost[[ld(k.index, t) for t in range(n)]] = k.size
        cost[st(k.index)] = k.size if k.producer is not None else 0
    integrality = np.zeros(count)
    integrality[: n * n + len(tensors) * n] = 1
    result = milp(cost, integrality=integrality, bounds=Bounds(0, 1),
                  constraints=LinearConstraint(matrix.tocsr(), [lo for _, lo, _ in rows], [hi for _, _, hi in rows]),
                  options={"time_limit": time_limit})
    if result.status != 0:
        raise RuntimeError(f"ILP on {graph.name} at {capacity} KiB: {result.message}")
    return round(result.fun) - graph.input_bytes()
