"""How repeatable is a speedup?  The same kernel evaluated N times by the judge (fresh processes each time):
the coefficient of variation of its speedup, and how often its 95% interval covers the overall median.

Run: .venv/bin/python benchmarks/speedup_stability.py [--evaluations 10] [--problem level1/matmul_square
     --candidate kernelbench/candidates/matmul_square_openmp.py] [--repeats 20] [--threads 1]
The goal on an idle CPU machine is a CV of 3% or less; a loaded shared machine does worse, which is what the
interval and the campaign's re-measurement are for.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from evaluators.config import EvalConfig, EvalRequest
from evaluators.judge import Judge
from kernelbench.registry import resolve_problem

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=10)
    parser.add_argument("--problem", default="level1/matmul_square")
    parser.add_argument("--candidate", default=str(REPO / "kernelbench/candidates/matmul_square_openmp.py"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    config = EvalConfig(trials=1, warmup=3, repeats=args.repeats, threads=args.threads, compare_compile=False)
    request = EvalRequest(resolve_problem(args.problem), Path(args.candidate).read_text(), config)
    judge = Judge(tempfile.mkdtemp(prefix="stark-bench-"))
    results = []
    for _ in track(range(args.evaluations), description=f"{args.problem}: {Path(args.candidate).name}"):
        result = judge.evaluate(request)
        assert result.passed, result.failure
        results.append(result)
    judge.close()
    speedups = [r.speedup_vs_eager for r in results]
    median = statistics.median(speedups)
    cv = statistics.stdev(speedups) / statistics.fmean(speedups)
    covered = sum(r.profile.speedup_ci[0] <= median <= r.profile.speedup_ci[1] for r in results)
    table = Table(title=f"{args.evaluations} evaluations, {args.repeats} timed rounds each, {args.threads} thread(s)")
    for column in ("evaluation", "speedup", "95% CI", "candidate µs", "reference µs", "null µs"):
        table.add_column(column, justify="right")
    for index, r in enumerate(results):
        p = r.profile
        table.add_row(str(index), f"{r.speedup_vs_eager:.3f}x", f"{p.speedup_ci[0]:.3f}-{p.speedup_ci[1]:.3f}",
                      f"{p.candidate.median_us:.0f}", f"{p.reference.median_us:.0f}", f"{p.null_us:.0f}")
    console = Console()
    console.print(table)
    console.print(f"median speedup {median:.3f}x; CV {cv * 100:.1f}% (goal <= 3%); "
                  f"{covered}/{len(results)} intervals cover the median")


if __name__ == "__main__":
    main()
