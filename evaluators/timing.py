"""Timing modules on rotating input sets: CUDA events on a GPU, perf_counter_ns on the CPU.

The modules being compared (candidate, eager reference, compiled reference) are timed interleaved, call
by call, so a burst of load from elsewhere on the machine slows all of them alike instead of skewing the
speedup.  Every sample ends with a full device synchronize, so work left on other streams is counted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

from evaluators.records import TimingStats


def summarize(samples_ns: Sequence[int | float]) -> TimingStats:
    us = sorted(s / 1000.0 for s in samples_ns)
    quartiles = statistics.quantiles(us, n=4, method="inclusive") if len(us) > 1 else [us[0]] * 3
    return TimingStats(
        median_us=statistics.median(us),
        iqr_us=quartiles[2] - quartiles[0],
        min_us=us[0],
        mean_us=statistics.fmean(us),
        runs=len(us),
    )


def time_modules(fns: Sequence[Callable], input_sets: Sequence[Sequence], warmup: int, repeats: int,
                 device: torch.device) -> list[TimingStats]:
    """Warm each module up, then time them in turn on the same input set, rotating sets between rounds."""
    count = len(input_sets)
    samples: list[list[float]] = [[] for _ in fns]
    one_call = _time_cuda if device.type == "cuda" else _time_cpu
    with torch.no_grad():
        for fn in fns:
            for i in range(warmup):
                fn(*input_sets[i % count])
        for i in range(repeats):
            args = input_sets[i % count]
            for slot, fn in enumerate(fns):
                samples[slot].append(one_call(fn, args))
    return [summarize(s) for s in samples]


def time_module(fn: Callable, input_sets: Sequence[Sequence], warmup: int, repeats: int,
                device: torch.device) -> TimingStats:
    return time_modules([fn], input_sets, warmup, repeats, device)[0]


def _time_cpu(fn: Callable, args: Sequence) -> float:
    start = time.perf_counter_ns()
    fn(*args)
    return time.perf_counter_ns() - start


def _time_cuda(fn: Callable, args: Sequence) -> float:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    fn(*args)
    torch.cuda.synchronize()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) * 1e6
