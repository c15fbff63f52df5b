"""Per-candidate overhead of the judge (fresh runner processes per job, forked from a warm zygote) against a
fresh Python interpreter per candidate (the cost any design that starts clean without a zygote pays).

Run: .venv/bin/python benchmarks/eval_overhead.py [--candidates 10]
Both arms evaluate the same trivial candidate on level1/relu at its CPU shapes (the judge: one verification
round and the second-shape round
(no profile), so what is measured is the framework (the kernel itself takes well under a millisecond).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from evaluators.config import EvalConfig, EvalRequest
from evaluators.judge import Judge
from kernelbench.registry import resolve_problem

CANDIDATE = Path(__file__).resolve().parent.parent / "kernelbench" / "candidates" / "relu_torch.py"
FRESH_INTERPRETER = """
import time, torch
from kernelbench.problem import load_module
problem = load_module(%r)
for name, value in problem.CPU_SHAPES.items():
    setattr(problem, name, value)
candidate = load_module(%r, prefix="stark_candidate")
x = problem.get_inputs()
torch.testing.assert_close(candidate.ModelNew()(*x), problem.Model()(*x))
"""


def judge_arm(count: int, request: EvalRequest) -> list[float]:
    judge = Judge(tempfile.mkdtemp(prefix="stark-bench-"))
    judge.evaluate(request)
    walls = []
    for _ in track(range(count), description="judge (fresh runners per job)"):
        start = time.perf_counter()
        result = judge.evaluate(request)
        walls.append(time.perf_counter() - start)
        assert result.passed, result.failure
    judge.close()
    return walls


def fresh_interpreter_arm(count: int, request: EvalRequest) -> list[float]:
    code = FRESH_INTERPRETER % (request.problem.path, str(CANDIDATE))
    samples = []
    for _ in track(range(count), description="fresh interpreter per candidate"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10)
    args = parser.parse_args()
    config = EvalConfig(trials=1, profile=False, threads=1)
    request = EvalRequest(resolve_problem("level1/relu"), CANDIDATE.read_text(), config)
    judged = judge_arm(args.candidates, request)
    fresh = fresh_interpreter_arm(args.candidates, request)
    table = Table(title=f"evaluator overhead per candidate ({args.candidates} candidates, level1/relu, one round)")
    for column in ("arm", "median ms", "min ms", "max ms"):
        table.add_column(column)
    for name, samples in (("judge: fresh runners from a zygote", judged), ("fresh interpreter (baseline)", fresh)):
        table.add_row(name, f"{statistics.median(samples) * 1e3:.1f}", f"{min(samples) * 1e3:.1f}",
                      f"{max(samples) * 1e3:.1f}")
    console = Console()
    console.print(table)
    console.print(f"fresh interpreter / judge median ratio: {statistics.median(fresh) / statistics.median(judged):.1f}x")


if __name__ == "__main__":
    main()
