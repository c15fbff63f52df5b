"""Per-candidate overhead of the evaluator: a reused worker process against a fresh process per candidate.

Run: .venv/bin/python benchmarks/eval_overhead.py [--candidates 10]
Both arms evaluate the same trivial candidate on level1/relu (verify only, 1 trial), so what is measured is
the framework: process start and torch import for the fresh arm, request/result round trip for both.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from evaluators.config import EvalConfig, EvalRequest
from evaluators.process import WorkerProcess
from kernelbench.registry import resolve_problem

CANDIDATE = Path(__file__).resolve().parent.parent / "kernelbench" / "candidates" / "relu_torch.py"


def measure(max_jobs: int, count: int, request: EvalRequest, label: str) -> list[float]:
    worker = WorkerProcess(tempfile.mkdtemp(prefix="stark-bench-"), max_jobs=max_jobs)
    worker.evaluate(request)
    samples = []
    for _ in track(range(count), description=label):
        start = time.perf_counter()
        result = worker.evaluate(request)
        samples.append(time.perf_counter() - start)
        assert result.passed, result.failure
    worker.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10)
    args = parser.parse_args()
    config = EvalConfig(trials=1, profile=False, threads=1)
    request = EvalRequest(resolve_problem("level1/relu"), CANDIDATE.read_text(), config)
    reused = measure(10**9, args.candidates, request, "reused worker")
    fresh = measure(1, args.candidates, dataclasses.replace(request), "fresh worker per candidate")
    table = Table(title=f"evaluator overhead per candidate ({args.candidates} candidates, level1/relu, verify only)")
    for column in ("arm", "median ms", "min ms", "max ms"):
        table.add_column(column)
    for name, samples in (("reused worker", reused), ("fresh worker (baseline)", fresh)):
        table.add_row(name, f"{statistics.median(samples) * 1e3:.1f}", f"{min(samples) * 1e3:.1f}",
                      f"{max(samples) * 1e3:.1f}")
    console = Console()
    console.print(table)
    console.print(f"fresh / reused median ratio: {statistics.median(fresh) / statistics.median(reused):.1f}x")


if __name__ == "__main__":
    main()
