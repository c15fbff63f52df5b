"""The learned cost model replayed over recorded campaigns: how well it ranks, and what profiling it would save.

Run: .venv/bin/python benchmarks/cost_model.py RUNS_DIR... [--seeds 5] [--explore 0.2]

Each kernel campaign's correct programs are replayed in the order they were made (migrant copies and repeats
aside: they were never timed).  The model (evolve/cost_model.py) predicts each from the ones timed before it;
a program is timed when its predicted upper bound reaches the best timed so far, or when the explore coin says
so; only timed programs train the model and move the best.  Printed per campaign and overall, averaged over
`--seeds` coins:
- Kendall's tau of the predictions against the measured speedups (every program the model predicted);
- the share of programs timed, and of the profiling stage's recorded seconds spent;
- whether the replay still timed the campaign's final best (or one within 1% of it).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import select  # noqa: E402

from evolve.cost_model import SpeedupModel, candidate_features, worth_timing  # noqa: E402
from evolve.db.models import Evaluation, Program  # noqa: E402
from evolve.runs_index import find_runs  # noqa: E402


def recorded(entry) -> list[dict]:
    """The campaign's timed, correct programs in order, each with its parent, speedup, source and profile seconds."""
    store = entry.open_store()
    try:
        campaign = store.campaign_id(entry.config.campaign.name)
        with store.session() as s:
            rows = s.execute(select(Program.id, Program.parent_id, Program.source, Program.score)
                             .where(Program.campaign_id == campaign, Program.status == "evaluated",
                                    Program.correct.is_(True), Program.origin != "migration")
                             .order_by(Program.id)).all()
            seconds = {}
            for program_id, stages in s.execute(select(Evaluation.program_id, Evaluation.stages)
                                                .join(Program, Program.id == Evaluation.program_id)
                                                .where(Program.campaign_id == campaign)):
                seconds[program_id] = sum(st["seconds"] for st in stages or [] if st.get("stage") == "profile")
    finally:
        store.close()
    return [{"id": pid, "parent": parent, "source": source, "speedup": score, "seconds": seconds.get(pid, 0.0)}
            for pid, parent, source, score in rows if score and score > 0]


def replay(programs: list[dict], seed: int, explore: float, within: float = 0.05) -> dict:
    from scipy.stats import kendalltau

    model, rng = SpeedupModel(seed), random.Random(seed)
    known: dict[int, float] = {}                  # what the replay knows of each program's speedup
    best = None
    predicted, measured, timed, spent = [], [], [], 0.0
    for p in programs:
        features = candidate_features(p["source"], known.get(p["parent"]))
        prediction = model.predict(features)
        if prediction is not None:
            predicted.append(prediction.speedup)
            measured.append(p["speedup"])
        if worth_timing(prediction, best, rng, explore, within):
            timed.append(p)
            spent += p["seconds"]
            known[p["id"]] = p["speedup"]
            model.add(features, p["speedup"])
            best = p["speedup"] if best is None else max(best, p["speedup"])
        else:
            known[p["id"]] = prediction.speedup
    true_best = max(p["speedup"] for p in programs)
    tau = kendalltau(predicted, measured).statistic if len(predicted) >= 3 else float("nan")
    total = sum(p["seconds"] for p in programs) or 1.0
    return {"predicted": len(predicted), "tau": tau, "timed": len(timed) / len(programs), "seconds": spent / total,
            "kept_best": (best or 0.0) >= true_best * 0.99, "best": best, "true_best": true_best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--explore", type=float, default=0.2)
    parser.add_argument("--least", type=int, default=30, help="skip campaigns with fewer timed programs")
    parser.add_argument("--within", type=float, default=0.05, help="time what comes within this of the best")
    args = parser.parse_args()
    console = Console()
    table = Table(title=f"learned cost model replayed ({args.seeds} coins, explore {args.explore:.0%}, "
                        f"within {args.within:.0%} of the best)")
    for column in ("campaign", "timed programs", "predicted", "Kendall tau", "programs timed", "profile seconds",
                   "final best kept"):
        table.add_column(column, justify="left" if column == "campaign" else "right")
    overall = []
    for root in args.runs:
        for entry in find_runs(root):
            if entry.config.campaign.problem.startswith("discovery/"):
                continue
            programs = recorded(entry)
            if len(programs) < args.least:
                continue
            runs = [replay(programs, seed, args.explore, args.within) for seed in range(args.seeds)]
            overall += runs
            table.add_row(entry.key, str(len(programs)), str(runs[0]["predicted"]),
                          f"{statistics.mean(r['tau'] for r in runs):.2f}",
                          f"{statistics.mean(r['timed'] for r in runs):.0%}",
                          f"{statistics.mean(r['seconds'] for r in runs):.0%}",
                          f"{sum(r['kept_best'] for r in runs)}/{len(runs)}")
    if not overall:
        console.print(f"no kernel campaign with at least {args.least} timed programs under {args.runs}")
        return
    taus = [r["tau"] for r in overall if r["tau"] == r["tau"]]          # campaigns too short to predict: nan
    table.add_row("all", "", "", f"{statistics.mean(taus):.2f}" if taus else "—",
                  f"{statistics.mean(r['timed'] for r in overall):.0%}",
                  f"{statistics.mean(r['seconds'] for r in overall):.0%}",
                  f"{sum(r['kept_best'] for r in overall)}/{len(overall)}")
    console.print(table)


if __name__ == "__main__":
    main()
