"""Did the search find something real?  For each campaign of an attention-family sweep, its seed and its best program
judged again, fresh, on the shapes the campaign tuned on (cpu) and on sizes it never saw (heldout: the problems'
HELD_OUT_SHAPES), several times each, interleaved so the machine's drift hits both alike.

Run: .venv/bin/python benchmarks/attention_heldout.py runs/attention-offline-40 [--evaluations 3] [--repeats 20]
It prints, per problem and shape set, the seed's and the best's median speedup over eager and their ratio (best /
seed: how much the mutator improved the seed), with the spread over evaluations.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from evaluators.config import EvalConfig, EvalRequest  # noqa: E402
from evaluators.judge import Judge  # noqa: E402
from kernelbench.registry import resolve_problem  # noqa: E402


def seed_and_best(run_dir: Path) -> tuple[str, str, int, int]:
    """The campaign's root program and its best-scoring correct one (sources and ids), read from its database."""
    with sqlite3.connect(f"file:{run_dir / 'campaign.db'}?mode=ro", uri=True) as db:
        root_id, root = db.execute("select id, source from programs where parent_id is null order by id limit 1").fetchone()
        best_id, best = db.execute("select id, source from programs where status = 'evaluated' and correct "
                                   "order by score desc, id limit 1").fetchone()
    return root, best, root_id, best_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--evaluations", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = sorted(p for p in args.sweep.iterdir() if (p / "campaign.db").is_file())
    config = EvalConfig(trials=1, warmup=3, repeats=args.repeats, threads=1, compare_compile=False)
    judge = Judge(tempfile.mkdtemp(prefix="stark-heldout-"))
    rows = []
    with Progress() as progress:
        task = progress.add_task("judging", total=len(runs) * 2 * 2 * args.evaluations)
        for run_dir in runs:
            problem_id = json.loads((run_dir / "config.json").read_text())["campaign"]["problem"]
            seed, best, seed_id, best_id = seed_and_best(run_dir)
            for shape_set in ("cpu", "heldout"):
                ref = resolve_problem(problem_id, shape_set=shape_set)
                speedups: dict[str, list[float]] = {"seed": [], "best": []}
                for _ in range(args.evaluations):
                    for name, source in (("seed", seed), ("best", best)):
                        result = judge.evaluate(EvalRequest(ref, source, config))
                        if not result.passed:
                            raise SystemExit(f"{problem_id} {name} #{best_id if name == 'best' else seed_id} failed "
                                             f"on {shape_set}: {result.failure}")
                        speedups[name].append(result.speedup_vs_eager)
                        progress.advance(task)
                rows.append({"problem": problem_id, "shapes": shape_set, "seed_id": seed_id, "best_id": best_id,
                             "seed": speedups["seed"], "best": speedups["best"]})
    judge.close()
    table = Table(title=f"seed vs best, {args.evaluations} fresh evaluations each ({args.repeats} timed rounds, 1 thread)")
    for column in ("problem", "shapes", "seed (median, range)", "best (median, range)", "best / seed"):
        table.add_column(column, justify="right")
    for row in rows:
        seed, best = statistics.median(row["seed"]), statistics.median(row["best"])
        row["ratio"] = best / seed
        table.add_row(row["problem"], row["shapes"], f"{seed:.3f}x ({min(row['seed']):.3f}-{max(row['seed']):.3f})",
                      f"{best:.3f}x ({min(row['best']):.3f}-{max(row['best']):.3f}) #{row['best_id']}",
                      f"{row['ratio']:.2f}")
    Console().print(table)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
