"""A KernelBench-format problem file and the two shape sets it can be instantiated with.

A problem file defines `class Model(nn.Module)`, `get_inputs()` and `get_init_inputs()`; its module-level
size globals are the GPU shape set (as in KernelBench).  Files written here add `CPU_SHAPES`, a dict of the
same globals sized to evaluate in seconds on two cores; for files without one (KernelBench's own) the CPU
set is derived by `kernelbench.cpu_shapes`.  A file may also add `HELD_OUT_SHAPES` (the `heldout` set): sizes a
campaign never saw, to check that what it found still holds off the shapes it was tuned on.  Because `get_inputs` reads the globals when called,
swapping the globals switches the shape set without touching the file's code.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

SHAPE_SETS = ("cpu", "gpu", "heldout")
_module_counter = itertools.count()


def default_shape_set(backend: str) -> str:
    """The problem's own sizes on a GPU; CPU sizes (the file's, or the scaling policy's) anywhere else."""
    return "gpu" if backend == "cuda" else "cpu"


def reference_as_candidate(problem_source: str) -> str:
    """The problem's own `Model`, renamed `ModelNew`: the candidate a KernelBench user checks first (it must
    pass, and it should measure 1.0x)."""
    renamed = re.sub(r"\bclass Model\(", "class ModelNew(", problem_source)
    return renamed + "\n\nModel = ModelNew  # for `super(Model, self).__init__()` in the class body\n"


class ProblemError(ValueError):
    """A problem or candidate file that cannot be used as asked; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class ProblemRef:
    """Where a problem lives and which shape set to use; small enough to send to a worker process."""

    problem_id: str
    path: str
    level: int
    shape_set: str = "cpu"
    kind: str = "kernel"


def load_module(path: str | Path, prefix: str = "stark_problem") -> types.ModuleType:
    """Execute a source file as a fresh, uniquely named module so repeated loads never share state."""
    path = Path(path)
    if not path.is_file():
        raise ProblemError(f"file not found: {path}")
    name = f"{prefix}_{next(_module_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ProblemError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def unload_module(module: types.ModuleType) -> None:
    sys.modules.pop(module.__name__, None)


def check_problem_module(module: types.ModuleType, path: str | Path) -> None:
    for attr in ("Model", "get_inputs", "get_init_inputs"):
        if not hasattr(module, attr):
            raise ProblemError(f"{path} is not a KernelBench problem: it defines no {attr}")


def apply_shape_set(module: types.ModuleType, shape_set: str) -> None:
    """Point the module's size globals at the requested shape set."""
    if shape_set not in SHAPE_SETS:
        raise ProblemError(f"unknown shape set {shape_set!r}; choose one of {', '.join(SHAPE_SETS)}")
    if shape_set == "gpu":
        module.SHAPES_NOTE = "the file's own sizes"
        return
    if shape_set == "heldout":
        sizes = getattr(module, "HELD_OUT_SHAPES", None)
        if not sizes:
            raise ProblemError(f"{module.__file__} has no held-out shapes (HELD_OUT_SHAPES)")
        module.SHAPES_NOTE = "the file's HELD_OUT_SHAPES: " + ", ".join(f"{k}={v}" for k, v in sizes.items())
        _set_sizes(module, sizes, "HELD_OUT_SHAPES")
        return
    cpu_shapes = getattr(module, "CPU_SHAPES", None)
    if cpu_shapes is None:   # a file sized for a GPU only (KernelBench's own): the documented scaling policy
        from kernelbench.cpu_shapes import cpu_shapes_for

        policy = cpu_shapes_for(module)
        module.CPU_SHAPES = cpu_shapes = dict(policy.sizes)
        module.SHAPES_NOTE = policy.describe()
    else:
        module.SHAPES_NOTE = "the file's CPU_SHAPES: " + ", ".join(f"{k}={v}" for k, v in cpu_shapes.items())
    _set_sizes(module, cpu_shapes, "CPU_SHAPES")


def _set_sizes(module: types.ModuleType, sizes: dict, origin: str) -> None:
    for key, value in sizes.items():
        if not hasattr(module, key):
            raise ProblemError(f"{module.__file__}: {origin} names {key!r}, which the file does not define")
        setattr(module, key, value)


def shape_overrides(module: types.ModuleType, shape_set: str) -> dict:
    """The size globals a shape set changed (nothing for the file's own sizes): what a candidate that copied the
    problem's globals is given too."""
    names = {"cpu": "CPU_SHAPES", "heldout": "HELD_OUT_SHAPES"}.get(shape_set)
    return _current_values(module, names) if names else {}


def _current_values(module: types.ModuleType, names: str) -> dict:
    """The module's current values of the globals a sizes dict (`CPU_SHAPES`, ...) names."""
    return {k: getattr(module, k) for k in (getattr(module, names, None) or {})}


def problem_sizes(ref: ProblemRef) -> dict:
    """The problem's size globals at its shape set (those CPU_SHAPES names; none for a file without them at its
    own sizes): what a cost model reads of the problem.  A problem that fails to load has none here; the judge
    reports why."""
    try:
        module = load_problem(ref)
    except Exception:  # noqa: BLE001 - the reference's failure is the judge's to report, not the caller's
        return {}
    try:
        return _current_values(module, "CPU_SHAPES")
    finally:
        unload_module(module)


def load_problem(ref: ProblemRef) -> types.ModuleType:
    module = load_module(ref.path)
    check_problem_module(module, ref.path)
    apply_shape_set(module, ref.shape_set)
    return module
