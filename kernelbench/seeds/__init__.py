"""Starting programs for the shipped problems, written for the offline mutator: each holds its tunables (block
sizes, layouts, which formulation) in an evolvable region and computes the problem's result for every setting."""

from __future__ import annotations

from pathlib import Path

SEEDS_ROOT = Path(__file__).parent


def seed_for(problem_id: str) -> Path | None:
    """The shipped seed of a shipped problem (`level1/relu`), or None."""
    if problem_id.startswith("kb/") or problem_id.count("/") != 1:
        return None
    path = SEEDS_ROOT / f"{problem_id}.py"
    return path if path.is_file() else None
