"""Attempts per second with 1 and with 2 evaluators, when evaluation dominates an attempt.

Run: .venv/bin/python benchmarks/evaluator_scaling.py [--attempts 16] [--problem level1/matmul_square]

Two campaigns that differ only in `pipeline.evaluators` (1, then 2), with 2 proposals in flight and the offline
mutator (no LLM: an attempt's time is its evaluation), from the problem's shipped seed with remeasurement off, so
every attempt is one evaluation of a kernel taking a fair share of a second on one thread.  Attempts per second
run from each campaign's first finished attempt to its last (start-up excluded).  Each evaluator pins its runners
to its own CPUs, so on a machine with two free cores the second evaluator should nearly double the rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import evolve.launch as launch  # noqa: E402


class Marks(launch.CampaignProgress):
    """Stands in for the progress bar: notes (attempts completed, wall) whenever the count moves."""

    marks: list[tuple[int, float]] = []

    def __init__(self, *args, **kwargs):
        Marks.marks = []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, state, elapsed_s: float, waiting: str = "") -> None:
        if not self.marks or self.marks[-1][0] != state.completed:
            self.marks.append((state.completed, time.perf_counter()))


def config(problem: str, seed: Path, evaluators: int, attempts: int, name: str) -> str:
    return f"""
[campaign]
name = "{name}"
problem = "{problem}"
seed_program = "{seed}"
[budget]
iterations = {attempts}
[pipeline]
proposals_in_flight = 2
evaluators = {evaluators}
repair_attempts = 0
[evolve]
islands = 1
island_capacity = 12
[evaluator]
trials = 2
repeats = 20
threads = 1
compare_compile = false
[remeasure]
enabled = false
[agents.planner]
kind = "offline"
[agents.coder]
kind = "offline"
[agents.reviewer]
kind = "offline"
"""


def rate(root: Path, problem: str, seed: Path, evaluators: int, attempts: int) -> tuple[float, float]:
    """(attempts per second, seconds per attempt) between the first and last finished attempt."""
    name = f"scaling-{evaluators}"
    (root / f"{name}.toml").write_text(config(problem, seed, evaluators, attempts, name))
    launch.start_campaign(root / f"{name}.toml", runs_root=root / "runs", show_progress=False)
    (n0, t0), (n1, t1) = Marks.marks[0], Marks.marks[-1]
    return (n1 - n0) / (t1 - t0), (t1 - t0) / (n1 - n0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=16)
    parser.add_argument("--problem", default="level1/matmul_square")
    args = parser.parse_args()
    seed = ROOT / "kernelbench" / "seeds" / f"{args.problem}.py"
    launch.CampaignProgress = Marks
    launch.ensure_ray()
    root = Path(tempfile.mkdtemp(prefix="stark-scaling-"))
    load = os.getloadavg()[0]
    one, one_s = rate(root, args.problem, seed, 1, args.attempts)
    two, two_s = rate(root, args.problem, seed, 2, args.attempts)
    table = Table(title=f"attempts per second, {args.problem} from its seed, offline mutator, 2 in flight "
                        f"({os.cpu_count()} cores, load {load:.1f} at start)")
    for column in ("evaluators", "attempts/s", "s per attempt"):
        table.add_column(column, justify="right")
    table.add_row("1", f"{one:.3f}", f"{one_s:.2f}")
    table.add_row("2", f"{two:.3f}", f"{two_s:.2f}")
    console = Console(width=130)
    console.print(table)
    console.print(f"2 evaluators / 1: {two / one:.2f}x")


if __name__ == "__main__":
    main()
