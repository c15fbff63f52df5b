"""What the judge's idle probe (evaluators/device_idle.py) measures on this GPU: idle, behind another process's
running kernels, and after that process is killed (how long its contexts take to go).  Needs CUDA."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import torch

from evaluators import device_idle
from evaluators.device_idle import DeviceProbe

BUSY_CHILD = """
import torch
first = True
while True:
    for _ in range(40):
        torch.cuda._sleep(200_000_000)
    if first:
        print("ready", flush=True)
        first = False
    torch.cuda.synchronize()
"""


def medians(probe: DeviceProbe, count: int) -> list[float]:
    return [probe.median_ns() / 1000 for _ in range(count)]


def show(label: str, values: list[float]) -> None:
    print(f"{label:<34} median {statistics.median(values):9.0f} us   min {min(values):9.0f}   max {max(values):9.0f}"
          f"   over {device_idle.BUSY_NS / 1000:.0f} us: {sum(v > device_idle.BUSY_NS / 1000 for v in values)}"
          f"/{len(values)}")


def main() -> None:
    probe = DeviceProbe(torch.device("cuda"))
    probe.median_ns()
    show("idle", medians(probe, 40))
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD], stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    show("behind another process's kernels", medians(probe, 40))
    killed = time.monotonic()
    child.kill()
    child.wait()
    idle = probe.idle_after(device_idle.SETTLE_S)
    print(f"after killing it: idle={idle} within {time.monotonic() - killed:.2f} s")
    show("idle again", medians(probe, 40))


if __name__ == "__main__":
    main()
