"""Identical candidates: do they score 1.0x within their interval, and would any count toward fast_1?

Run: .venv/bin/python benchmarks/identity_speedups.py [--rounds 2] [--levels 1 2] [--harness stark kernelbench]

Each shipped problem's own Model, renamed ModelNew, is judged against itself (CPU shapes, one thread; with
`--compile` torch.compile's baseline is timed too, as campaigns time it) `--rounds` times under each harness, one evaluation at a time.  Printed per harness: how many
identical candidates measured above 1.0x (what fast_1 counted before ties stopped being wins), how many have a
95% interval entirely above 1.0 (what it counts now), and how many intervals cover 1.0.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from rich.table import Table  # noqa: E402

from evaluators.config import EvalConfig, EvalRequest  # noqa: E402
from evaluators.judge import Judge  # noqa: E402
from kernelbench.problem import reference_as_candidate  # noqa: E402
from kernelbench.registry import builtin_problems  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--harness", nargs="+", default=["stark", "kernelbench"])
    parser.add_argument("--compile", action="store_true", help="also time torch.compile's baseline (as campaigns do)")
    args = parser.parse_args()
    problems = [ref for ref in builtin_problems("cpu") if ref.level in args.levels]
    judge = Judge()
    rows, worst = {}, {}
    try:
        for harness in args.harness:
            config = EvalConfig(threads=1, compare_compile=args.compile, harness=harness)
            results = []
            for ref, _ in track([(ref, k) for ref in problems for k in range(args.rounds)],
                                description=f"{harness} harness"):
                result = judge.evaluate(EvalRequest(ref, reference_as_candidate(Path(ref.path).read_text()), replace(config, seed=len(results))))
                if result.passed and result.profile and result.profile.speedup_ci:
                    results.append((result.speedup_vs_eager, *result.profile.speedup_ci))
            worst[harness] = sorted(results, key=lambda r: -r[1])[:5]
            above = sum(s > 1.0 for s, _, _ in results)
            wins = sum(low > 1.0 for _, low, _ in results)
            covered = sum(low <= 1.0 <= high for _, low, high in results)
            rows[harness] = (len(results), above, wins, covered)
            speedups = sorted(r[0] for r in results)
            below = sum(high < 1.0 for _, _, high in results)
            print(f"{harness}: median identity speedup {speedups[len(speedups) // 2]:.3f}x; "
                  f"{below} of {len(results)} intervals entirely below 1.0", flush=True)
    finally:
        judge.close()
    table = Table(title=f"identical candidates, {len(problems)} shipped level {'/'.join(map(str, args.levels))} problems "
                        f"x {args.rounds} (CPU shapes, 1 thread{', torch.compile timed too' if args.compile else ''})")
    for column in ("harness", "judged", "measured above 1.0x (old fast_1)", "interval above 1.0 (fast_1 now)",
                   "interval covers 1.0"):
        table.add_column(column, justify="left" if column == "harness" else "right")
    for harness, (n, above, wins, covered) in rows.items():
        table.add_row(harness, str(n), f"{above} ({above / max(1, n):.0%})", f"{wins} ({wins / max(1, n):.0%})",
                      f"{covered} ({covered / max(1, n):.0%})")
    console = Console(width=150)
    console.print(table)
    for harness, top in worst.items():
        console.print(f"{harness}: highest lower ends " + ", ".join(f"{s:.3f}x [{lo:.3f}-{hi:.3f}]" for s, lo, hi in top))


if __name__ == "__main__":
    main()
