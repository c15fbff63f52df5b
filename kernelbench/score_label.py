"""How a campaign's primary score reads, to people and to the LLM.

Kernels score by speedup over eager ("speedup 1.234x").  Discovery problems score by their first objective,
stored oriented so that higher is always better ("min" objectives negated); the label undoes the negation
so a miss ratio reads as the ratio ("extra_mean 0.549"), never as "-0.549x".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScoreLabel:
    name: str = "speedup"
    direction: str = "max"
    ratio: bool = True            # shown with an "x": a speedup over a baseline

    def value(self, score: float) -> float:
        return -score if self.direction == "min" else score

    def format_value(self, score: float | None) -> str:
        if score is None:
            return "n/a"
        return f"{self.value(score):.3f}x" if self.ratio else f"{self.value(score):.4g}"

    def format(self, score: float | None) -> str:
        return f"{self.name} {self.format_value(score)}"

    def better(self) -> str:
        return "higher is better" if self.direction == "max" else "lower is better"


KERNEL_SCORE = ScoreLabel()


def score_label(problem_id: str, objectives: list[dict] | tuple = ()) -> ScoreLabel:
    """Discovery problems are named `discovery/...`; their score is the first objective."""
    if not problem_id.startswith("discovery/") or not objectives:
        return KERNEL_SCORE
    first = objectives[0]
    name, direction = (first["name"], first["direction"]) if isinstance(first, dict) else (first.name, first.direction)
    return ScoreLabel(name, direction, ratio=False)
