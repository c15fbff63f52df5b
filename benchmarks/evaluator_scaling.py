"""Attempts per second with 1 and with 2 evaluators, when evaluation dominates an attempt.

Run: .venv/bin/python benchmarks/evaluator_scaling.py [--attempts 16] [--problem level1/matmul_square]

Two campaigns that differ only in `pipeline.evaluators` (1, then 2), with 2 proposals in flight, from the
problem's shipped seed with remeasurement off.  The LLM is the scripted test double (in a process of its own)
answering at once with the seed plus one distinct line each time, so every attempt is one evaluation of a kernel
taking a fair share of a second on one thread, and nothing else.  Attempts per second
run from each campaign's fifth finished attempt to its last (start-up and sandbox warm-up excluded).  Each evaluator pins its runners
to its own CPUs, so on a machine with two free cores the second evaluator should nearly double the rate.
"""

from __future__ import annotations

import argparse
import multiprocessing
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
from benchmarks import progress_marks  # noqa: E402
from benchmarks.progress_marks import ProgressMarks  # noqa: E402
from tests.scripted_llm_server import ScriptedOpenAIServer, Step  # noqa: E402

PLAN = Step("STRATEGY: a variant\nINSTRUCTIONS:\n- [L1] add a line")


def serve(seed: Path, count: int, ready) -> None:
    """The scripted LLM in its own process: whole programs, the seed with a distinct line each."""
    text = seed.read_text()
    marker = "# EVOLVE-BLOCK-START\n"
    replies = [Step("```python\n" + text.replace(marker, f"{marker}_variant = {k}\n") + "```")
               for k in range(1, count + 1)]
    with ScriptedOpenAIServer({"coder": replies}, fallback={"planner": PLAN}) as server:
        ready.send(server.base_url)
        while True:
            time.sleep(3600)


WARM_UP = 4
"""Attempts left out at the start: an evaluator's first job also starts its sandbox's zygote (seconds)."""


def config(problem: str, seed: Path, evaluators: int, attempts: int, name: str, base_url: str) -> str:
    agents = "".join(f'[agents.{role}]\nkind = "llm"\n[agents.{role}.llm]\nmodel = "{role}"\n'
                     f'base_url = "{base_url}"\napi_key_env = ""\nmax_concurrency = 4\n'
                     for role in ("planner", "coder", "reviewer"))
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
repeats = 1000
threads = 1
compare_compile = false
[remeasure]
enabled = false
""" + agents


def rate(root: Path, problem: str, seed: Path, evaluators: int, attempts: int, base_url: str) -> tuple[float, float]:
    """(attempts per second, seconds per attempt) between the first and last finished attempt."""
    name = f"scaling-{evaluators}"
    (root / f"{name}.toml").write_text(config(problem, seed, evaluators, attempts, name, base_url))
    launch.start_campaign(root / f"{name}.toml", runs_root=root / "runs", show_progress=False)
    marks = [m for m in ProgressMarks.marks if m[0] >= WARM_UP]   # every evaluator has started its sandbox by then
    (n0, _, t0, _), (n1, _, t1, _) = marks[0], marks[-1]
    return (n1 - n0) / (t1 - t0), (t1 - t0) / (n1 - n0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=14)
    parser.add_argument("--problem", default="level1/matmul_square")
    args = parser.parse_args()
    seed = ROOT / "kernelbench" / "seeds" / f"{args.problem}.py"
    progress_marks.use()
    root = Path(tempfile.mkdtemp(prefix="stark-scaling-"))
    load = os.getloadavg()[0]
    parent, child = multiprocessing.get_context("fork").Pipe()      # before Ray starts its threads
    server = multiprocessing.get_context("fork").Process(target=serve, args=(seed, args.attempts * 4, child),
                                                         daemon=True)
    server.start()
    base_url = parent.recv()
    launch.ensure_ray()
    try:
        one, one_s = rate(root, args.problem, seed, 1, args.attempts, base_url)
        two, two_s = rate(root, args.problem, seed, 2, args.attempts, base_url)
    finally:
        server.kill()
    table = Table(title=f"attempts per second, {args.problem} (scripted instant LLM: a distinct program each time), 2 in flight "
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
