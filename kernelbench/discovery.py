"""Discovery problems: programs evolved against a deterministic simulator rather than a reference kernel."""

from __future__ import annotations

import types
from pathlib import Path

from kernelbench.problem import ProblemError, load_module

DISCOVERY_ROOT = Path(__file__).parent / "problems" / "discovery"


def discovery_problems() -> list[str]:
    return sorted(p.stem for p in DISCOVERY_ROOT.glob("*.py") if not p.name.startswith("_"))


def load_discovery_problem(name: str) -> types.ModuleType:
    path = DISCOVERY_ROOT / f"{name}.py"
    if not path.is_file():
        raise ProblemError(f"unknown discovery problem {name!r}; known: {', '.join(discovery_problems())}")
    return load_module(path, prefix="stark_discovery")


def baseline_metrics(problem: types.ModuleType, split: str) -> dict[str, dict[str, float]]:
    """Every baseline's metrics on one split, ceilings (policies that see what a candidate cannot) included."""
    names = list(problem.BASELINES) + list(getattr(problem, "CEILINGS", ()))
    return {name: problem.evaluate_baseline(name, split) for name in names}
