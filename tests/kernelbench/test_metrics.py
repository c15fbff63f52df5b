"""Leaderboard metrics against values computed by hand."""

import pytest

from kernelbench.metrics import ProblemOutcome, correctness_rate, fast_p, geomean_speedup

OUTCOMES = [
    ProblemOutcome("level1/a", 1, True, 2.5, 1.2),
    ProblemOutcome("level1/b", 1, True, 1.0, 0.5),
    ProblemOutcome("level1/c", 1, False, None, None),
    ProblemOutcome("level2/d", 2, True, 0.5, 0.25),
]


def test_fast_p_by_hand():
    assert fast_p(OUTCOMES, 0.0) == 3 / 4
    assert fast_p(OUTCOMES, 1.0) == 1 / 4          # 1.0 is not faster than 1.0
    assert fast_p(OUTCOMES, 1.5) == 1 / 4
    assert fast_p(OUTCOMES, 2.0) == 1 / 4
    assert fast_p(OUTCOMES, 2.5) == 0.0
    assert fast_p(OUTCOMES, 1.0, "compile") == 1 / 4
    assert fast_p(OUTCOMES, 0.3, "compile") == 2 / 4


def test_ties_are_not_wins_where_the_judge_gave_an_interval():
    identical = ProblemOutcome("level1/e", 1, True, 1.04, speedup_interval=(0.97, 1.11))     # noise above 1.0x
    faster = ProblemOutcome("level1/f", 1, True, 1.30, speedup_interval=(1.21, 1.38))
    unmeasured = ProblemOutcome("level1/g", 1, True, 1.04)                                     # no interval: as measured
    assert fast_p([identical], 1.0) == 0.0 and fast_p([identical], 0.8) == 1.0
    assert fast_p([faster], 1.0) == 1.0 and fast_p([faster], 1.25) == 0.0
    barely = ProblemOutcome("level1/h", 1, True, 1.12, speedup_interval=(1.05, 1.19))        # within the tie margin
    assert fast_p([barely], 1.0) == 0.0 and fast_p([barely], 1.0, margin=0.0) == 1.0
    assert fast_p([unmeasured], 1.0) == 1.0
    assert fast_p([identical, faster, unmeasured], 0.0) == 1.0


def test_correctness_and_geomean_by_hand():
    assert correctness_rate(OUTCOMES) == 0.75
    assert geomean_speedup(OUTCOMES) == pytest.approx((2.5 * 1.0 * 0.5) ** (1 / 3))
    assert geomean_speedup(OUTCOMES, "compile") == pytest.approx((1.2 * 0.5 * 0.25) ** (1 / 3))
    assert geomean_speedup([OUTCOMES[2]]) is None and fast_p([], 1.0) == 0.0


def test_unknown_baseline_is_refused():
    with pytest.raises(ValueError, match="unknown baseline"):
        fast_p(OUTCOMES, 1.0, "cudnn")
