"""KernelBench's leaderboard metrics over per-problem outcomes.

fast_p is the fraction of problems whose best program is correct AND faster than the baseline by more than
p (so fast_0 is the correctness rate, as in KernelBench).  Ties are not wins: where the judge measured a 95%
interval for the speedup, the whole interval must lie above p — a program indistinguishable from the reference
(an identical one measures 1.0x within noise, and about half of such measurements land above 1.0x) does not
count toward fast_1.  Nor do speedups within TIE_MARGIN of p: on a shared 2-core machine identical programs
measured in separate processes land up to ~1.15x apart, 95% intervals included
(benchmarks/identity_speedups.py), so a win at p needs the interval's lower end above p * (1 + TIE_MARGIN).
The geometric-mean speedup is over the problems with a correct program; problems without one are counted by the
correctness rate instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

BASELINES = ("eager", "compile")
FAST_P_THRESHOLDS = (0.0, 0.5, 0.8, 1.0, 1.5, 2.0)
"""KernelBench's thresholds (its scripts report fast_p at these p)."""
TIE_MARGIN = 0.1


@dataclass(frozen=True, slots=True)
class ProblemOutcome:
    problem_id: str
    level: int
    correct: bool
    speedup_vs_eager: float | None = None
    speedup_vs_compile: float | None = None
    best_program: int | None = None
    attempts: int = 0
    attempts_to_first_correct: int | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    speedup_interval: tuple[float, float] | None = None
    """95% bootstrap interval of speedup_vs_eager, from the judge's interleaved rounds."""
    roofline_fraction: float | None = None
    """The best program's time against the machine's limit (evaluators/roofline.py): 1.0 is as fast as it gets."""

    def speedup(self, baseline: str) -> float | None:
        if baseline not in BASELINES:
            raise ValueError(f"unknown baseline {baseline!r}")
        return self.speedup_vs_eager if baseline == "eager" else self.speedup_vs_compile


def correctness_rate(outcomes: Sequence[ProblemOutcome]) -> float:
    return sum(o.correct for o in outcomes) / len(outcomes) if outcomes else 0.0


def fast_p(outcomes: Sequence[ProblemOutcome], p: float, baseline: str = "eager", margin: float = TIE_MARGIN) -> float:
    if not outcomes:
        return 0.0
    return sum(1 for o in outcomes if beats(o, p, baseline, margin)) / len(outcomes)


def beats(outcome: ProblemOutcome, p: float, baseline: str = "eager", margin: float = TIE_MARGIN) -> bool:
    """Correct, and faster than `p` times the baseline beyond the measurement's noise where it is known."""
    speedup = outcome.speedup(baseline) or 0.0
    if not outcome.correct or speedup <= p:
        return False
    interval = outcome.speedup_interval if baseline == "eager" else None
    return p <= 0.0 or interval is None or interval[0] > p * (1.0 + margin)


def geomean_speedup(outcomes: Sequence[ProblemOutcome], baseline: str = "eager") -> float | None:
    speedups = [o.speedup(baseline) for o in outcomes if o.correct and o.speedup(baseline)]
    if not speedups:
        return None
    return math.exp(sum(math.log(s) for s in speedups) / len(speedups))
