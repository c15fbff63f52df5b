"""Where a round's inputs cost the judge time on a GPU: seeding, drawing them there, the trip to the host and back.

Under cProfile on an H100 the judge's drawing of the 4096x4096 GEMM's inputs took 0.29 s a round; this times each
step on its own (median of several, synchronized) so the fix goes where the time is.
Usage: python3 benchmarks/gpu_input_draw.py [PROBLEM ...]   (needs CUDA)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from evaluators.seeding import seed_torch  # noqa: E402
from kernelbench.problem import apply_shape_set, load_module  # noqa: E402
from kernelbench.registry import resolve_problem  # noqa: E402

CUDA = torch.device("cuda")


def timed(step, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="*", default=["level1/matmul_square"])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.zeros(1, device=CUDA)
    for name in args.problems:
        problem = load_module(resolve_problem(name, shape_set="gpu").path)
        apply_shape_set(problem, "gpu")
        drawn = []

        def on_device():
            with CUDA:
                drawn[:] = problem.get_inputs()

        def to_host():
            return [t.detach().cpu().contiguous() for t in drawn if isinstance(t, torch.Tensor)]

        on_device()
        host = to_host()
        steps = {
            "seed_torch": lambda: seed_torch(1234, "cuda"),
            "get_inputs on the GPU": on_device,
            "to the host (.cpu)": to_host,
            "back to the GPU (.to)": lambda: [t.to(CUDA) for t in host],
            "get_inputs on the host": lambda: problem.get_inputs(),
        }
        print(f"{name}: " + ", ".join(f"{tuple(t.shape)} {t.dtype}" for t in host))
        for label, step in steps.items():
            print(f"  {label:26s} {timed(step, args.repeats):9.2f} ms (median of {args.repeats})")


if __name__ == "__main__":
    main()
