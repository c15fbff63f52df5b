"""Finding problems: the ones shipped here, an external KernelBench checkout, or any file by path."""

from __future__ import annotations

import re
from pathlib import Path

from kernelbench.problem import ProblemError, ProblemRef

BUILTIN_ROOT = Path(__file__).parent / "problems"
_LEVEL_DIR = re.compile(r"^level(\d+)$")


def builtin_problems(shape_set: str = "cpu") -> list[ProblemRef]:
    return _scan(BUILTIN_ROOT, prefix="", shape_set=shape_set)


def kernelbench_problems(checkout: str | Path, shape_set: str = "cpu") -> list[ProblemRef]:
    """Problems of an external KernelBench checkout (its root or its inner `KernelBench/` folder)."""
    root = Path(checkout)
    if not root.is_dir():
        raise ProblemError(f"KernelBench checkout not found: {root}")
    inner = root / "KernelBench"
    problems = _scan(inner if inner.is_dir() else root, prefix="kb/", shape_set=shape_set)
    if not problems:
        raise ProblemError(f"no level1/level2/level3 problem files under {root}")
    return problems


def _scan(root: Path, prefix: str, shape_set: str) -> list[ProblemRef]:
    found = []
    for level_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        match = _LEVEL_DIR.match(level_dir.name)
        if not match:
            continue
        for path in sorted(level_dir.glob("*.py"), key=_natural_key):
            if path.name.startswith("_"):
                continue
            problem_id = f"{prefix}{level_dir.name}/{path.stem}"
            found.append(ProblemRef(problem_id, str(path.resolve()), int(match.group(1)), shape_set))
    return found


def _natural_key(path: Path) -> tuple:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem))


def resolve_problem(name: str, kernelbench_dir: str | Path | None = None, shape_set: str | None = None) -> ProblemRef:
    """A problem id (`level1/relu`, `kb/level1/19_ReLU`) or a path to a problem file."""
    as_path = Path(name)
    if as_path.suffix == ".py" or as_path.exists():
        if not as_path.is_file():
            raise ProblemError(f"problem file not found: {name}")
        level = _level_of(as_path)
        return ProblemRef(as_path.stem, str(as_path.resolve()), level, shape_set or "cpu")
    if name.startswith("discovery/"):
        from kernelbench.discovery import DISCOVERY_ROOT, discovery_problems

        if name.removeprefix("discovery/") not in discovery_problems():
            raise ProblemError(f"unknown problem {name!r}; `stark problems` lists them")
        return ProblemRef(name, str(DISCOVERY_ROOT / f"{name.removeprefix('discovery/')}.py"), 0, "-", "discovery")
    candidates = builtin_problems(shape_set or "cpu")
    if kernelbench_dir is not None:
        candidates += kernelbench_problems(kernelbench_dir, shape_set or "cpu")
    for ref in candidates:
        if name in (ref.problem_id, ref.problem_id.removeprefix("kb/")):
            return ref
    raise ProblemError(f"unknown problem {name!r}; `stark problems` lists them")


def _level_of(path: Path) -> int:
    match = _LEVEL_DIR.match(path.resolve().parent.name)
    return int(match.group(1)) if match else 0
