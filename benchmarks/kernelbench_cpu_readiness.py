"""Does every KernelBench problem run here?  Each problem's own `Model` (renamed `ModelNew`) is judged against
itself on CPU shapes (the scaling policy of `kernelbench.cpu_shapes`); it must pass, and every failure is one
categorized line.

    python benchmarks/kernelbench_cpu_readiness.py --kernelbench-dir PATH [--levels 1 2 3] [--out FILE.json]

Resumable: problems already in --out are not judged again.  Prints the pass rate per level and every failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table  # noqa: E402

from evaluators.config import EvalConfig, EvalRequest  # noqa: E402
from evaluators.judge import Judge  # noqa: E402
from kernelbench.problem import reference_as_candidate  # noqa: E402
from kernelbench.registry import kernelbench_problems  # noqa: E402

CONFIG = EvalConfig(trials=2, warmup=1, repeats=5, input_sets=2, threads=1, compare_compile=False)


def judge_all(problems, out: Path) -> dict:
    done = json.loads(out.read_text()) if out.exists() else {}
    judge = Judge()
    try:
        with Progress(console=Console(stderr=True)) as progress:
            task = progress.add_task("problems", total=len(problems), completed=sum(p.problem_id in done for p in problems))
            for ref in problems:
                if ref.problem_id in done:
                    continue
                progress.update(task, description=ref.problem_id)
                started = time.monotonic()
                try:
                    result = judge.evaluate(EvalRequest(ref, reference_as_candidate(Path(ref.path).read_text()), CONFIG))
                    row = {"passed": result.passed, "shapes": result.shapes,
                           "kind": None if result.passed else result.failure.kind.value,
                           "stage": None if result.passed else result.failure.stage.value,
                           "message": None if result.passed else result.failure.message.splitlines()[0][:300]}
                except Exception as exc:  # noqa: BLE001 - the harness itself failed: recorded, not fatal
                    row = {"passed": False, "shapes": "", "kind": "harness_error", "stage": None,
                           "message": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
                row.update(level=ref.level, seconds=round(time.monotonic() - started, 1))
                done[ref.problem_id] = row
                out.write_text(json.dumps(done, indent=1))
                progress.advance(task)
    finally:
        judge.close()
    return done


def summarize(done: dict, console: Console) -> None:
    table = Table("level", "problems", "pass", "pass rate", "median s", title="Model as candidate, CPU shapes")
    for level in sorted({row["level"] for row in done.values()}):
        rows = [r for r in done.values() if r["level"] == level]
        passed = sum(r["passed"] for r in rows)
        seconds = sorted(r["seconds"] for r in rows)
        table.add_row(str(level), str(len(rows)), str(passed), f"{passed / len(rows):.1%}", f"{seconds[len(seconds) // 2]:.1f}")
    rows = list(done.values())
    table.add_row("all", str(len(rows)), str(sum(r["passed"] for r in rows)),
                  f"{sum(r['passed'] for r in rows) / len(rows):.1%}", "")
    console.print(table)
    kinds = Counter(r["kind"] for r in rows if not r["passed"])
    if kinds:
        console.print("failures by kind: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))
    for problem_id, row in sorted(done.items()):
        if not row["passed"]:
            console.print(f"  {problem_id}: {row['stage']}/{row['kind']}: {row['message']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernelbench-dir", required=True)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", default="kernelbench_cpu_readiness.json")
    args = parser.parse_args()
    problems = [p for p in kernelbench_problems(args.kernelbench_dir, "cpu") if p.level in args.levels]
    summarize(judge_all(problems, Path(args.out)), Console())


if __name__ == "__main__":
    main()
