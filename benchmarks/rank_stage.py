"""The rank stage live: the same campaign run with the cost model off and on (same seeds, same budget, one after
the other, alternating), and what it saved: profiling seconds spent, programs timed, candidates verified but not
timed, the final best (re-judged fresh, several times, so one lucky measurement does not decide), and the model's
Kendall tau on the programs it predicted and then timed.

Run: .venv/bin/python benchmarks/rank_stage.py [--config runs/attention_offline.toml] [--problem
     level3/attention_alibi] [--iterations 60] [--seeds 2] [--rejudge 3]
A live run differs from benchmarks/cost_model.py's replay: what the model skips changes what the search does next
(skipped programs never become parents), so the two arms explore different trees.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from evaluators.config import EvalConfig, EvalRequest  # noqa: E402
from evaluators.judge import Judge  # noqa: E402
from evolve.db.store import ProgramStore  # noqa: E402
from evolve.launch import start_campaign  # noqa: E402
from evolve.viewer.queries import cost_model_calls  # noqa: E402
from kernelbench.registry import resolve_problem  # noqa: E402
from kernelbench.seeds import seed_for  # noqa: E402


def run_arm(config: Path, problem: str, iterations: int, seed: int, ranked: bool, root: Path) -> dict:
    name = f"{'ranked' if ranked else 'plain'}-{seed}"
    overrides = [f"campaign.name={name}", f"campaign.problem={problem}", f"campaign.seed={seed}",
                 f"campaign.seed_program={seed_for(problem)}", f"budget.iterations={iterations}",
                 "budget.wall_time_s=0", f"cost_model.enabled={'true' if ranked else 'false'}"]
    start_campaign(config, overrides, runs_root=root, show_progress=False)
    run = root / name
    with sqlite3.connect(run / "campaign.db") as db:
        counts = dict(db.execute("select status, count(*) from programs group by status").fetchall())
        profile = sum(st["seconds"] for (stages,) in db.execute("select stages from evaluations")
                      for st in json.loads(stages or "[]") if st.get("stage") == "profile")
        best_source = db.execute("select source from programs where status = 'evaluated' order by score desc "
                                 "limit 1").fetchone()[0]
    store = ProgramStore(run / "campaign.db", create=False)
    try:
        tau = cost_model_calls(store, 1)["summary"]["kendall_tau"]
    finally:
        store.close()
    return {"arm": "on" if ranked else "off", "seed": seed, "timed": counts.get("evaluated", 0),
            "untimed": counts.get("untimed", 0), "profile_s": profile, "tau": tau, "best_source": best_source}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "runs/attention_offline.toml")
    parser.add_argument("--problem", default="level3/attention_alibi")
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--rejudge", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="stark-rank-"))
    arms = []
    for seed in range(args.seeds):
        for ranked in (False, True) if seed % 2 == 0 else (True, False):
            arms.append(run_arm(args.config, args.problem, args.iterations, seed, ranked, root))
    judge = Judge(tempfile.mkdtemp(prefix="stark-rank-judge-"))
    request = lambda source: EvalRequest(resolve_problem(args.problem), source,   # noqa: E731
                                         EvalConfig(trials=1, warmup=3, repeats=20, threads=1, compare_compile=False))
    for _ in range(args.rejudge):            # interleaved over the arms, so drift hits them alike
        for arm in arms:
            arm.setdefault("rejudged", []).append(judge.evaluate(request(arm["best_source"])).speedup_vs_eager)
    judge.close()
    table = Table(title=f"{args.problem}: {args.iterations} attempts per campaign, cost model off vs on")
    for column in ("cost model", "seed", "timed", "verified, not timed", "profile s", "Kendall τ",
                   f"final best (median of {args.rejudge} fresh)"):
        table.add_column(column, justify="right")
    for arm in arms:
        table.add_row(arm["arm"], str(arm["seed"]), str(arm["timed"]), str(arm["untimed"]), f"{arm['profile_s']:.1f}",
                      "—" if arm["tau"] is None else f"{arm['tau']:.2f}", f"{statistics.median(arm['rejudged']):.3f}x")
    console = Console()
    console.print(table)
    for key in ("on", "off"):
        group = [a for a in arms if a["arm"] == key]
        console.print(f"cost model {key}: profile {sum(a['profile_s'] for a in group):.1f} s in all, final bests "
                      + ", ".join(f"{statistics.median(a['rejudged']):.3f}x" for a in group))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
