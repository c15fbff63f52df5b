"""Per-candidate overhead of the judge (fresh runner processes per job, forked from a warm zygote) against a
fresh Python interpreter per candidate (the cost any design that starts clean without a zygote pays).

Run: .venv/bin/python benchmarks/eval_overhead.py [--candidates 10]
Both arms evaluate the same trivial candidate on level1/relu at its CPU shapes (the judge: one verification
round and the second-shape round
(no profile), so what is measured is the framework (the kernel itself takes well under a millisecond).
Besides wall time, the judge's CPU per candidate is counted over all its processes (the judge, its zygote, the
runners it forks and reaps, the kept reference runner), which a loaded machine does not inflate as it does wall
time.
"""

from __future__ import annotations

import argparse
import os
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


def process_cpu_s(pid: int, with_reaped: bool = False) -> float:
    """utime + stime of a process (and of the children it reaped), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if with_reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def judge_cpu_s(judge: Judge) -> float:
    """This process (the judge) and the sandbox: the zygote with every runner it reaped, and the live ones."""
    own = time.process_time()
    if judge.pid is None:
        return own
    return own + process_cpu_s(judge.pid, with_reaped=True) + sum(
        process_cpu_s(pid) for pid in judge.zygote.processes())


def judge_arm(count: int, request: EvalRequest) -> tuple[list[float], list[float]]:
    judge = Judge(tempfile.mkdtemp(prefix="stark-bench-"))
    judge.evaluate(request)
    walls, cpus = [], []
    for _ in track(range(count), description="judge (fresh runners per job)"):
        start, cpu = time.perf_counter(), judge_cpu_s(judge)
        result = judge.evaluate(request)
        walls.append(time.perf_counter() - start)
        cpus.append(judge_cpu_s(judge) - cpu)
        assert result.passed, result.failure
    judge.close()
    return walls, cpus


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
    judged, judged_cpu = judge_arm(args.candidates, request)
    fresh = fresh_interpreter_arm(args.candidates, request)
    table = Table(title=f"evaluator overhead per candidate ({args.candidates} candidates, level1/relu, one round)")
    for column in ("arm", "median ms", "min ms", "max ms"):
        table.add_column(column)
    for name, samples in (("judge: fresh runners from a zygote", judged), ("fresh interpreter (baseline)", fresh)):
        table.add_row(name, f"{statistics.median(samples) * 1e3:.1f}", f"{min(samples) * 1e3:.1f}",
                      f"{max(samples) * 1e3:.1f}")
    console = Console()
    console.print(table)
    console.print(f"judge CPU per candidate, all its processes: median {statistics.median(judged_cpu) * 1e3:.1f} ms "
                  f"(min {min(judged_cpu) * 1e3:.1f}, max {max(judged_cpu) * 1e3:.1f}); "
                  f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    console.print(f"fresh interpreter / judge median ratio: {statistics.median(fresh) / statistics.median(judged):.1f}x")


if __name__ == "__main__":
    main()
