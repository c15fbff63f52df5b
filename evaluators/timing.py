"""Timing one module on rotating input sets: CUDA events on a GPU, perf_counter_ns on the CPU."""

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


def time_module(fn: Callable, input_sets: Sequence[Sequence], warmup: int, repeats: int, device: torch.device) -> TimingStats:
    """Run `fn` over the input sets in turn so no single buffer stays hot in cache between calls."""
    count = len(input_sets)
    with torch.no_grad():
        for i in range(warmup):
            fn(*input_sets[i % count])
        if device.type == "cuda":
            return summarize(_time_cuda(fn, input_sets, repeats))
        return summarize(_time_cpu(fn, input_sets, repeats))


def _time_cpu(fn: Callable, input_sets: Sequence[Sequence], repeats: int) -> list[int]:
    samples = []
    for i in range(repeats):
        args = input_sets[i % len(input_sets)]
        start = time.perf_counter_ns()
        fn(*args)
        samples.append(time.perf_counter_ns() - start)
    return samples


def _time_cuda(fn: Callable, input_sets: Sequence[Sequence], repeats: int) -> list[float]:
    """Events bracket each call on the current stream; a full synchronize makes work on other streams count."""
    samples = []
    for i in range(repeats):
        args = input_sets[i % len(input_sets)]
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        fn(*args)
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) * 1e6)
    return samples
