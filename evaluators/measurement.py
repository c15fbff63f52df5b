"""From the judge's own clock readings to timing statistics and a speedup with a confidence interval."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np

from evaluators.records import TimingStats

BOOTSTRAP_RESAMPLES = 2000
FLOOR_NS = 1000.0
FLOOR_SHARE_OF_NULL = 0.02


def summarize(samples_ns: Sequence[int | float]) -> TimingStats:
    us = sorted(s / 1000.0 for s in samples_ns)
    quartiles = statistics.quantiles(us, n=4, method="inclusive") if len(us) > 1 else [us[0]] * 3
    return TimingStats(median_us=statistics.median(us), iqr_us=quartiles[2] - quartiles[0], min_us=us[0],
                       mean_us=statistics.fmean(us), runs=len(us))


def corrected(samples_ns: Sequence[int], null_ns: float) -> list[float]:
    """Subtract the null round trip (message, wake-up, output copy); a call can never look faster than a floor,
    so a near-empty kernel gets a large but finite speedup rather than a division by almost nothing."""
    floor = max(FLOOR_NS, FLOOR_SHARE_OF_NULL * null_ns)
    return [max(float(s) - null_ns, floor) for s in samples_ns]


def speedup_interval(reference_ns: Sequence[float], candidate_ns: Sequence[float], confidence: float = 0.95,
                     seed: int = 0, process_spread: float = 0.0) -> tuple[float, float]:
    """Bootstrap over rounds (each round timed both modules back to back, so pairs are resampled together)
    of the ratio of medians; a percentile interval, widened by `process_spread` (see `with_process_spread`)."""
    reference, candidate = np.asarray(reference_ns, dtype=float), np.asarray(candidate_ns, dtype=float)
    if len(reference) != len(candidate) or len(reference) == 0:
        raise ValueError("paired samples of equal, non-zero length are needed")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(reference), size=(BOOTSTRAP_RESAMPLES, len(reference)))
    ratios = np.median(reference[picks], axis=1) / np.median(candidate[picks], axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(ratios, [tail, 100.0 - tail])
    point = float(np.median(reference) / np.median(candidate))
    return with_process_spread(point, float(low), float(high), process_spread, confidence)


def with_process_spread(point: float, low: float, high: float, spread: float,
                        confidence: float = 0.95) -> tuple[float, float]:
    """The rounds only show how one pair of processes varies; two processes running identical code also differ
    by where their memory landed, and that holds for every round alike.  `spread` is that difference's standard
    deviation on a log scale; each side of the interval (in logs) becomes sqrt(side² + (z·spread)²)."""
    if spread <= 0 or point <= 0 or low <= 0 or high <= 0:
        return low, high
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2.0)
    below, above = max(math.log(point / low), 0.0), max(math.log(high / point), 0.0)
    extra = (z * spread) ** 2
    return point * math.exp(-math.sqrt(below ** 2 + extra)), point * math.exp(math.sqrt(above ** 2 + extra))
