"""How far a timed result is from what the machine can do, and whether it is faster than the machine can be.

A result reads as a fraction of the roofline limit: the time one forward needs at least, moving its bytes at the
machine's peak bandwidth or doing its FLOPs at its peak rate, whichever is longer, over the time measured.  Peaks
come from a short calibration on this host (cached per host and thread count), or for GPUs from the device's
published figures.

The limit is also a check: a candidate measured faster than moving its inputs, weights and outputs allows (by
more than SUSPECT_MARGIN) did not do its work inside the timed call — deferred work, a side stream, a broken
clock — and fails as `faster_than_possible` instead of scoring a win.  Only bytes decide it, never FLOPs: a
better algorithm may need fewer FLOPs than the reference's (a diagonal matrix product), but any program has to
read what it is given and write what it returns.  The bandwidth is measured at the problem's own footprint (a
working set that fits a cache moves faster than one that does not), as the best of several kernels (copy, read,
write) and repetitions, so a busy machine makes the peak look lower only by what it steals from the best run.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from kernelbench.work import Work

SUSPECT_MARGIN = 1.5
"""How much faster than the memory limit a measurement may be before it is not believed: calibration is a
best-effort lower bound on the peak (a busy host, a kernel better than torch's), so only a clear excess counts."""
FOOTPRINTS = (64 << 10, 512 << 10, 4 << 20, 32 << 20, 256 << 20)
"""Working-set sizes the bandwidth is calibrated at (bytes moved per call: read plus written)."""
CALIBRATION_VERSION = 1


@dataclass(frozen=True, slots=True)
class MachinePeaks:
    gflops: float
    """Peak FP32 rate (GFLOP/s): a large matrix product on CPU, the published figure on a GPU."""
    bandwidth_gbps: tuple[tuple[int, float], ...]
    """(footprint in bytes, GB/s) pairs, ascending by footprint."""
    source: str
    l2_bytes: int = 0
    """GPUs: the L2 size below which a working set may be served from cache (published HBM figures do not bound
    it, so there the limit is reported but never used to suspect a result)."""

    def bandwidth_at(self, footprint: int) -> float:
        """The peak for this working set: the best rate calibrated at any footprint not above it (a smaller
        working set moves at least as fast; the smallest ones pay per-call overhead), or the best of all."""
        smaller = [gbps for size, gbps in self.bandwidth_gbps if size <= footprint]
        return max(smaller or [gbps for _, gbps in self.bandwidth_gbps])


@dataclass(frozen=True, slots=True)
class RooflineReport:
    flops: int | None
    bytes_moved: int
    peak_gflops: float
    peak_gbps: float
    compute_us: float | None
    memory_us: float
    measured_us: float
    source: str
    bound_checked: bool = True
    """False where the memory limit is not a physical bound for this working set (a GPU's L2-resident data)."""

    @property
    def limit_us(self) -> float:
        return max(self.memory_us, self.compute_us or 0.0)

    @property
    def fraction(self) -> float:
        """Share of the roofline limit reached: 1.0 means as fast as the machine allows."""
        return self.limit_us / self.measured_us if self.measured_us > 0 else float("inf")

    @property
    def suspect(self) -> bool:
        return self.bound_checked and self.measured_us > 0 and self.memory_us / self.measured_us > SUSPECT_MARGIN

    def describe(self) -> str:
        bound = "memory" if self.memory_us >= (self.compute_us or 0.0) else "compute"
        return (f"{self.fraction * 100:.1f}% of the roofline ({bound}-bound: {self.bytes_moved / 2**20:.2f} MiB at "
                f"{self.peak_gbps:.1f} GB/s"
                + (f", {self.flops / 1e9:.3f} GFLOP at {self.peak_gflops:.0f} GFLOP/s" if self.flops else "")
                + f"; {self.source})")

    def to_dict(self) -> dict:
        return {**asdict(self), "limit_us": self.limit_us, "fraction": self.fraction, "suspect": self.suspect,
                "description": self.describe()}

    @classmethod
    def from_dict(cls, data: dict) -> RooflineReport:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


def report(work: Work, measured_us: float, peaks: MachinePeaks) -> RooflineReport:
    gbps = peaks.bandwidth_at(work.bytes_moved)
    memory_us = work.bytes_moved / (gbps * 1e3)
    compute_us = work.flops / (peaks.gflops * 1e3) if work.flops else None
    return RooflineReport(work.flops, work.bytes_moved, peaks.gflops, gbps, compute_us, memory_us, measured_us,
                          peaks.source, bound_checked=work.bytes_moved > peaks.l2_bytes)


# -- peaks ---------------------------------------------------------------------------------------------------
GPU_PEAKS = (  # name fragment (first match wins; nvidia-smi names), FP32 TFLOP/s (non-tensor), HBM TB/s, L2 MiB
    # from the vendors' data sheets; an unmarked name takes its fastest variant, so a peak is never understated
    ("H200", 67.0, 4.8, 50), ("H100 PCIe", 51.0, 2.0, 50), ("H100 NVL", 60.0, 3.9, 50), ("H100", 67.0, 3.35, 50),
    ("A100-SXM4-80GB", 19.5, 2.039, 40), ("A100", 19.5, 1.555, 40), ("L40S", 91.6, 0.864, 96),
    ("L4", 30.3, 0.3, 48), ("A10", 31.2, 0.6, 6), ("V100", 15.7, 0.9, 6), ("T4", 8.1, 0.32, 4),
    ("RTX 4090", 82.6, 1.008, 72),
)


def gpu_peaks(name: str) -> MachinePeaks | None:
    for fragment, tflops, tbps, l2_mib in GPU_PEAKS:
        if fragment.lower() in name.lower():
            return MachinePeaks(tflops * 1e3, ((0, tbps * 1e3),), f"published peaks of the {fragment}",
                                l2_bytes=l2_mib << 20)
    return None


def cache_file(threads: int) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stark" / "roofline"
    return root / f"{socket.gethostname()}-{threads}t-v{CALIBRATION_VERSION}.json"


def cpu_peaks(threads: int, repeats: int = 5) -> MachinePeaks:
    """Calibrated once per host and thread count (a few seconds), then read from the cache."""
    path = cache_file(threads)
    try:
        data = json.loads(path.read_text())
        return MachinePeaks(data["gflops"], tuple(tuple(p) for p in data["bandwidth_gbps"]), data["source"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    peaks = calibrate_cpu(threads, repeats)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(peaks)))
    except OSError:
        pass                                   # a read-only home: calibrate again next time
    return peaks


def calibrate_cpu(threads: int, repeats: int = 5) -> MachinePeaks:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
        gflops = 2 * 1024**3 / _best_seconds(lambda: torch.mm(a, b), repeats) / 1e9
        rates = []
        for footprint in FOOTPRINTS:
            n = footprint // 8                      # float32 elements: a copy reads n*4 and writes n*4 bytes
            src, dst = torch.randn(n), torch.empty(n)
            copy = 2 * n * 4 / _best_seconds(lambda: dst.copy_(src), repeats)
            read = n * 4 / _best_seconds(lambda: src.sum(), repeats)
            write = n * 4 / _best_seconds(lambda: dst.fill_(1.0), repeats)
            rates.append((footprint, max(copy, read, write) / 1e9))
    finally:
        torch.set_num_threads(before)
    return MachinePeaks(gflops, tuple(rates), f"calibrated on {socket.gethostname()}, {threads} thread(s)")


def _best_seconds(call, repeats: int) -> float:
    call()                                          # first touch, warm caches
    best = float("inf")
    for _ in range(repeats):
        inner = 1
        while True:                                 # enough calls to span ≥ 2 ms, so the clock's grain is noise
            start = time.perf_counter()
            for _ in range(inner):
                call()
            elapsed = time.perf_counter() - start
            if elapsed >= 2e-3 or inner >= 1 << 16:
                break
            inner *= 4
        best = min(best, elapsed / inner)
    return best


class RooflineCheck:
    """The judge's: work per problem and peaks per machine, each worked out once per judge process."""

    def __init__(self):
        self.work: dict[tuple, Work | None] = {}
        self.peaks: dict[tuple, MachinePeaks | None] = {}

    def read(self, problem, problem_path: str, shape_set: str, backend: str, threads: int, gpu_name: str,
             measured_us: float) -> RooflineReport | None:
        from kernelbench.work import problem_work

        try:
            stamp = os.stat(problem_path).st_mtime_ns
        except OSError:
            stamp = 0
        key = (problem_path, stamp, shape_set)
        if key not in self.work:
            self.work[key] = problem_work(problem)
        machine = (backend, threads, gpu_name)
        if machine not in self.peaks:
            self.peaks[machine] = gpu_peaks(gpu_name) if backend == "cuda" else cpu_peaks(threads)
        work, peaks = self.work[key], self.peaks[machine]
        if work is None or peaks is None or work.bytes_moved == 0:
            return None
        return report(work, measured_us, peaks)
