"""A KernelBench leaderboard: several runs side by side, per level and overall, as one JSON-able dict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kernelbench.metrics import (BASELINES, FAST_P_THRESHOLDS, ProblemOutcome, correctness_rate, fast_p,
                                 geomean_speedup)


@dataclass(frozen=True, slots=True)
class RunColumn:
    """One run (a set of campaigns, one per problem) and the machine it ran on."""

    name: str
    outcomes: tuple[ProblemOutcome, ...]
    environment: dict[str, str] = field(default_factory=dict)
    harness: str = "stark"
    """Which rules judged it: "stark", "kernelbench" (its fast_p counts every problem of a level, a missing one
    as failed), or "mixed"."""
    settings: dict[str, Any] = field(default_factory=dict)
    """What the campaigns ran under (budget, agents, evaluator): a number means little without it."""


@dataclass(frozen=True, slots=True)
class DiscoveryOutcome:
    """A discovery campaign's result in its objective's own units (not a speedup: off the kernel leaderboard)."""

    run: str
    problem_id: str
    metric: str
    direction: str
    seed: float | None
    evolved: float | None
    evolved_holdout: float | None
    best_baseline: str
    baseline: float | None
    baseline_holdout: float | None
    best_program: int | None
    attempts: int


def measured(outcomes: Sequence[ProblemOutcome], baseline: str) -> bool:
    """Whether any run timed this baseline at all (campaigns may skip torch.compile): if not, fast_p against it
    is unknown, not 0%."""
    return any(o.speedup(baseline) is not None for o in outcomes if o.correct) or not any(o.correct for o in outcomes)


def summary(outcomes: Sequence[ProblemOutcome]) -> dict[str, Any]:
    return {
        "problems": len(outcomes),
        "correctness_rate": correctness_rate(outcomes),
        "fast_p": {baseline: {str(p): fast_p(outcomes, p, baseline) if measured(outcomes, baseline) else None
                              for p in FAST_P_THRESHOLDS}
                   for baseline in BASELINES},
        "geomean_speedup": {baseline: geomean_speedup(outcomes, baseline) for baseline in BASELINES},
        "tokens": sum(o.tokens for o in outcomes),
        "cost_usd": sum(o.cost_usd for o in outcomes),
    }


def build_leaderboard(columns: Sequence[RunColumn], discovery: Sequence[DiscoveryOutcome] = (),
                      meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """`meta`: when and from what the report was made (date, commit, command), recorded with it."""
    levels = sorted({o.level for c in columns for o in c.outcomes})
    problems = sorted({(o.level, o.problem_id) for c in columns for o in c.outcomes})
    return {
        "meta": meta or {},
        "runs": [c.name for c in columns],
        "environment": {c.name: {**c.environment, "harness": c.harness} for c in columns},
        "settings": {c.name: c.settings for c in columns},
        "measured": {c.name: {b: measured(c.outcomes, b) for b in BASELINES} for c in columns},
        "overall": {c.name: summary(c.outcomes) for c in columns},
        "levels": {str(level): {c.name: summary([o for o in c.outcomes if o.level == level]) for c in columns}
                   for level in levels},
        "problems": [{"problem_id": pid, "level": level,
                      "runs": {c.name: next((asdict(o) for o in c.outcomes if o.problem_id == pid), None)
                               for c in columns}}
                     for level, pid in problems],
        "discovery": [asdict(d) for d in discovery],
    }
