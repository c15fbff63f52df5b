"""Starting programs for the shipped problems, written for the offline mutator: each holds its tunables (block
sizes, layouts, which formulation) in an evolvable region and computes the problem's result for every setting."""

from __future__ import annotations

from pathlib import Path

SEEDS_ROOT = Path(__file__).parent


def seed_for(problem_id: str, backend: str = "cpu") -> Path | None:
    """The shipped seed of a shipped problem (`level1/relu`), or None.  On the cuda backend a GPU seed
    (`gpu/level3/...`, Triton) comes first: a CPU seed written in C++ would read device memory from the host."""
    if problem_id.startswith("kb/") or problem_id.count("/") != 1:
        return None
    places = ([SEEDS_ROOT / "gpu"] if backend == "cuda" else []) + [SEEDS_ROOT]
    return next((path for root in places if (path := root / f"{problem_id}.py").is_file()), None)
