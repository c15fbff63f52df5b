"""CPU sizes for problems that bring none: KernelBench's own files are sized for a GPU (single inputs of
0.1-1.3 GB, seconds per call on two cores), so `--shapes cpu` scales their module-level size globals down.

The policy is deterministic and reads nothing but the file:
- Scalable: module-level ints >= 16 (and such elements of int tuples such as `input_shape = (4096,)`);
  kernel sizes, strides, paddings, dilations, groups and axis numbers are smaller than that or named below,
  and stay as written.  Entries that start out equal scale together (`bias_shape = (out_channels, 1, 1)`
  keeps matching `out_channels`).
- Cost: the problem is instantiated on PyTorch's meta device (no memory, no arithmetic): bytes of inputs,
  parameters, buffers and outputs, and the FLOPs `torch.utils.flop_counter` counts for one forward.
- Scaling: halve the batch-like sizes first (names holding "batch", down to 1), then the largest remaining
  size (down to 8), until within MEMORY_BUDGET and FLOP_BUDGET.  A halving the problem rejects (its model
  or inputs fail to build or to run on meta at that size) is undone and that size is kept from then on.
A problem whose forward cannot run on meta is scaled by bytes alone.  The GPU path keeps the file's sizes.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import types
from dataclasses import asdict, dataclass, field
from pathlib import Path
from kernelbench.work import measure_work

MEMORY_BUDGET = 64 * 1024**2
"""Bytes of the inputs and outputs of one call (what the judge makes afresh and compares every round);
parameters are made once and are not budgeted."""
FLOP_BUDGET = 2 * 10**9
"""FLOPs of one forward (as counted by torch.utils.flop_counter: matrix products and convolutions)."""
SMALLEST_SCALABLE = 16
FLOOR = 8
KEPT_NAMES = frozenset({"kernel_size", "stride", "padding", "dilation", "groups", "output_padding", "dim", "axis",
                        "pool_kernel_size", "pool_stride", "pool_padding", "num_heads", "n_head", "num_groups",
                        "seed", "repeats"})
"""Never scaled, whatever their value: they change what the model computes, not how much of it."""


@dataclass(frozen=True, slots=True)
class ShapePolicyResult:
    sizes: dict[str, object]
    """The globals that were changed, with their new values (ints or tuples)."""
    original: dict[str, object]
    bytes_moved: int
    flops: int | None
    """None when the forward could not run on meta (then only bytes were budgeted)."""
    within_budget: bool
    kept: tuple[str, ...] = field(default=())
    """Sizes a halving broke, kept as written."""
    note: str = ""

    def describe(self) -> str:
        if self.note:
            return f"the file's own sizes ({self.note})"
        if not self.sizes:
            return "the file's own sizes (already within the CPU budget)"
        changed = ", ".join(f"{name} {self.original[name]}->{value}" for name, value in self.sizes.items())
        flops = "FLOPs not counted" if self.flops is None else f"{self.flops / 1e9:.2f} GFLOP"
        note = "" if self.within_budget else "; over budget at the smallest sizes it accepts"
        return f"scaled for the CPU: {changed} ({self.bytes_moved / 1024**2:.1f} MiB, {flops}{note})"


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    index: int | None
    original: int

    @property
    def batch_like(self) -> bool:
        return "batch" in self.name.lower()


def scalable_entries(module: types.ModuleType) -> list[_Entry]:
    entries = []
    for name, value in vars(module).items():
        if name.startswith("_") or name in KEPT_NAMES or name.isupper() and len(name) > 1:
            continue
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            entry = _Entry(name, None, value)
            if value >= SMALLEST_SCALABLE or entry.batch_like and value >= 2:
                entries.append(entry)
        elif isinstance(value, (tuple, list)) and value and all(isinstance(v, int) and not isinstance(v, bool)
                                                                for v in value):
            entries += [_Entry(name, i, v) for i, v in enumerate(value) if v >= SMALLEST_SCALABLE]
    return entries


POLICY_VERSION = 1
"""Part of the cache key: a change to the policy re-sizes every problem."""


def cpu_shapes_for(module: types.ModuleType) -> ShapePolicyResult:
    """The policy for a loaded problem module, cached by the file's content in memory and on disk (sizing a
    recurrent network on meta takes tens of seconds; the judge loads the problem for every job)."""
    import torch

    source = Path(module.__file__).read_bytes() if getattr(module, "__file__", None) else b""
    if not source:
        return _policy(module)
    digest = hashlib.sha256(source + f"|{POLICY_VERSION}|{torch.__version__}".encode()).hexdigest()[:32]
    if digest not in _RESULTS:
        _RESULTS[digest] = _read_cache(digest) or _write_cache(digest, _policy(module))
    return _RESULTS[digest]


_RESULTS: dict[str, ShapePolicyResult] = {}


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stark" / "cpu-shapes"


def _read_cache(digest: str) -> ShapePolicyResult | None:
    try:
        data = json.loads((cache_dir() / f"{digest}.json").read_text())
        data["sizes"] = {k: tuple(v) if isinstance(v, list) else v for k, v in data["sizes"].items()}
        data["original"] = {k: tuple(v) if isinstance(v, list) else v for k, v in data["original"].items()}
        return ShapePolicyResult(**{**data, "kept": tuple(data["kept"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_cache(digest: str, result: ShapePolicyResult) -> ShapePolicyResult:
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        temporary = cache_dir() / f"{digest}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(asdict(result)))
        temporary.replace(cache_dir() / f"{digest}.json")
    except OSError:
        pass  # a read-only home: the policy is recomputed next time, nothing else changes
    return result


def apply_sizes(module: types.ModuleType, sizes: dict[str, object]) -> None:
    for name, value in sizes.items():
        setattr(module, name, value)


@dataclass(slots=True)
class _Group:
    """Entries that scale together; after a multi-halving step the problem rejected, one halving at a time."""

    entries: list[_Entry]
    one_at_a_time: bool = False
    merged: bool = False

    @property
    def batch_like(self) -> bool:
        return self.entries[0].batch_like


def _policy(module: types.ModuleType) -> ShapePolicyResult:
    entries = scalable_entries(module)
    original_values = {e.name: getattr(module, e.name) for e in entries}
    current = {(e.name, e.index): e.original for e in entries}
    groups: list[_Group] = []
    for batch_like in (True, False):   # a batch size never moves with a feature size that happens to equal it
        tied: dict[int, list[_Entry]] = {}
        for entry in entries:
            if entry.batch_like == batch_like:
                tied.setdefault(entry.original, []).append(entry)
        groups += [_Group(members) for members in tied.values()]
    kept: list[str] = []
    try:
        cost = _measure(module, entries, current)
    except Exception as exc:  # noqa: BLE001 - a problem that cannot be built at all keeps its sizes
        return ShapePolicyResult({}, {}, 0, None, False, note=f"not sized: {type(exc).__name__}: {exc}"[:200])
    counts_flops = cost[1] is not None
    while not _within(cost):
        group = _next_group(groups, current)
        if group is None:
            break
        halvings = _halvings(cost, group)
        trial = dict(current)
        for entry in group.entries:
            floor = 1 if entry.batch_like else FLOOR
            trial[(entry.name, entry.index)] = max(floor, trial[(entry.name, entry.index)] >> halvings)
        try:
            trial_cost = _measure(module, entries, trial)
            if counts_flops and trial_cost[1] is None:
                raise ValueError("the forward stopped running on meta")
        except Exception:  # noqa: BLE001 - this step breaks the problem
            if halvings > 1:
                group.one_at_a_time = True          # scale as far as the problem allows
                continue
            groups.remove(group)
            twins = [g for g in groups if g.entries[0].original == group.entries[0].original]
            if group.batch_like and twins and not group.merged:   # the batch is also a feature size (a loss's
                for twin in twins:                                # targets broadcast against its inputs)
                    groups.remove(twin)
                groups.append(_Group(group.entries + [e for t in twins for e in t.entries], merged=True))
            elif len(group.entries) > 1 and not group.batch_like:  # tied by value only by chance: each alone
                groups += [_Group([entry], one_at_a_time=True, merged=True) for entry in group.entries]
            else:
                kept += [entry.name for entry in group.entries]
            continue
        current, cost = trial, trial_cost
    sizes = {name: value for name, value in _values(entries, current, original_values).items()
             if value != original_values[name]}
    return ShapePolicyResult(sizes, {k: original_values[k] for k in sizes}, cost[0], cost[1], _within(cost),
                             tuple(sorted(set(kept))))


def _halvings(cost: tuple[int, int | None], group: _Group) -> int:
    """How many halvings at once: the batch scales cost linearly, other sizes up to quadratically (a square
    matrix's two sides are tied), so far-over-budget problems get there in a few measurements."""
    if group.one_at_a_time:
        return 1
    ratio = max(cost[0] / MEMORY_BUDGET, (cost[1] or 0) / FLOP_BUDGET)
    steps = max(1, int(math.log2(max(ratio, 1.0))))
    return steps if group.batch_like else max(1, steps // 2)


def _within(cost: tuple[int, int | None]) -> bool:
    return cost[0] <= MEMORY_BUDGET and (cost[1] is None or cost[1] <= FLOP_BUDGET)


def _next_group(groups: list[_Group], current: dict) -> _Group | None:
    """Batch-like sizes first, then the largest size left; ties go to the alphabetically first name."""
    def value(group: _Group) -> int:
        return current[(group.entries[0].name, group.entries[0].index)]

    open_groups = [g for g in groups if value(g) > (1 if g.batch_like else FLOOR)]
    pool = [g for g in open_groups if g.batch_like] or open_groups
    if not pool:
        return None
    return min(pool, key=lambda g: (-value(g), min(e.name for e in g.entries)))


def _values(entries: list[_Entry], current: dict, original_values: dict) -> dict[str, object]:
    values = dict(original_values)
    for entry in entries:
        new = current[(entry.name, entry.index)]
        if entry.index is None:
            values[entry.name] = new
        else:
            items = list(values[entry.name])
            items[entry.index] = new
            values[entry.name] = type(original_values[entry.name])(items)
    return values


def _measure(module: types.ModuleType, entries: list[_Entry], current: dict) -> tuple[int, int | None]:
    """Bytes (inputs and outputs) and FLOPs of one call at these sizes, on the meta device (nothing allocated,
    nothing computed)."""
    original_values = {e.name: getattr(module, e.name) for e in entries}
    apply_sizes(module, _values(entries, current, original_values))
    try:
        work = measure_work(module)
        return work.input_bytes + work.output_bytes, work.flops
    finally:
        apply_sizes(module, original_values)
