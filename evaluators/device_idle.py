"""Is the GPU idle while every runner is stopped?  The judge asks before each timed call on a GPU.

SIGSTOP stops a runner's threads and its child processes, not the kernels they already launched.  A kernel
left running across the stop (launched by a thread after the runner's synchronize, or queued by a child process
with a CUDA context of its own) keeps the device busy while the judge times the next call, the reference's
included: contexts on one GPU take turns in time slices, so the reference's kernels wait for the candidate's.
Such a kernel could also read inputs the runner loaded before the clock started and compute the answer early.

Nothing of the judge's own runs on the device at that moment, so a tiny kernel of the judge's (a context of its
own) should start and finish at once; behind another context's running kernel it waits for the scheduler's
next time slice (a millisecond or more).  The probe times that kernel on the host clock, several times, and
calls the device busy when even the median wait is long.  Who kept it busy is found by killing the candidate's
runner (its process group, children and contexts with it): the device idle again means the candidate's work.
"""

from __future__ import annotations

import statistics
import time

import torch

PROBES = 5
BUSY_NS = 500_000
"""A median probe above this is a device that was not idle.  Idle, the probe is a kernel launch and a
synchronize (tens of microseconds); behind another context's kernel it waits for a time slice."""
SETTLE_S = 3.0
"""How long a killed runner's contexts get to be torn down before the device is called busy for other reasons."""


class DeviceProbe:
    """The judge's own one-element kernel on the device, timed end to end."""

    def __init__(self, device: torch.device):
        self.device = device
        self.counter = torch.zeros(1, dtype=torch.int32, device=device)
        self.latest_ns: list[int] = []
        self.idle_ns: list[int] = []
        """Each idle check's median, for the profile's note (what an idle device measured here)."""

    def median_ns(self) -> int:
        samples = []
        for _ in range(PROBES):
            start = time.perf_counter_ns()
            self.counter.add_(1)
            torch.cuda.synchronize(self.device)
            samples.append(time.perf_counter_ns() - start)
        self.latest_ns = samples
        return int(statistics.median(samples))

    def busy(self) -> bool:
        median = self.median_ns()
        if median > BUSY_NS:
            return True
        self.idle_ns.append(median)
        return False

    def idle_after(self, seconds: float) -> bool:
        """Polled, since a killed process's contexts go away some time after its death."""
        deadline = time.monotonic() + seconds
        while True:
            if not self.busy():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def note(self) -> str:
        if not self.idle_ns:
            return "device idle check: not run"
        ordered = sorted(self.idle_ns)
        return (f"device idle before each timed call ({len(ordered)} checks; probe median "
                f"{ordered[len(ordered) // 2] / 1000:.0f} us, worst {ordered[-1] / 1000:.0f} us)")
