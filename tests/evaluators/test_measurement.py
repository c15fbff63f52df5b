"""The speedup interval: the rounds' bootstrap, widened by how much two processes differ on identical code."""

import math

import pytest

from evaluators.config import EvalConfig
from evaluators.measurement import speedup_interval, with_process_spread

STEADY = [1000.0 + (i % 3) for i in range(20)]


def test_without_a_spread_the_interval_is_the_bootstrap():
    assert speedup_interval(STEADY, STEADY) == speedup_interval(STEADY, STEADY, process_spread=0.0)
    low, high = speedup_interval(STEADY, STEADY)
    assert 0.99 < low <= 1.0 <= high < 1.01


def test_a_spread_widens_each_side_in_quadrature():
    low, high = speedup_interval(STEADY, STEADY, process_spread=0.04)
    assert low == pytest.approx(math.exp(-1.96 * 0.04), rel=2e-3)
    assert high == pytest.approx(math.exp(1.96 * 0.04), rel=2e-3)
    assert with_process_spread(2.0, 1.5, 2.5, 0.04) == pytest.approx(
        (2.0 * math.exp(-math.hypot(math.log(2.0 / 1.5), 1.96 * 0.04)),
         2.0 * math.exp(math.hypot(math.log(2.5 / 2.0), 1.96 * 0.04))), rel=1e-3)


def test_a_clear_speedup_still_clears_one():
    low, _ = speedup_interval([2000.0 + i for i in range(20)], STEADY, process_spread=0.04)
    assert low > 1.8


def test_the_spread_is_validated():
    with pytest.raises(ValueError, match="process_spread"):
        EvalConfig(process_spread=-0.1)
