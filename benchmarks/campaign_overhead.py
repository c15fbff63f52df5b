"""The campaign loop's own cost per attempt, from the first attempt to 100k programs in the database.

Run: .venv/bin/python benchmarks/campaign_overhead.py [--bucket 1000] [--sizes 10000,30000,100000]
                                                      [--openevolve-python /path/to/venv/bin/python]
                                                      [--baseline REV [--rounds 2]]

What is measured is the driver process's CPU time per completed attempt (process CPU holds on a noisy, shared
machine; wall time is printed beside it): the campaign loop with its database, islands, sampling, the Ray calls
to the agents and the evaluator pool, and nothing else.  The LLM is the scripted OpenAI-compatible test double
answering at once, in a process of its own (its CPU is not the driver's); the evaluation is level1/relu with
verification only, through the real sandboxed evaluator pool.

A first campaign runs one bucket of attempts on an empty database.  Then its database is grown in bulk to each
size in `--sizes` (benchmarks/bulk_programs.py copies the campaign's own attempts) and the campaign is resumed for
one more bucket at that size.  Each bucket's figure excludes start-up (Ray, actors, the seed's evaluation): it
runs from the bucket's first finished attempt to its last.

With `--openevolve-python` (a venv holding `openevolve==0.4.0`: `python -m venv V && V/bin/pip install
openevolve==0.4.0`), OpenEvolve runs the same way in the same run (the same scripted server, a trivial
evaluator, 2 parallel workers) for `--openevolve-iterations`, measured per bucket the same way, and the table
shows stark / OpenEvolve per bucket; without it, that arm is skipped with a message.

With `--baseline REV`, the same stark arm also runs on a git revision of this repository (a worktree, in a process
of its own, served by the same scripted LLM), alternating with this checkout for `--rounds` rounds (this, REV,
REV, this, ...: the machine's drift falls on both alike), and the table shows this checkout / REV per bucket.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(os.environ.get("STARK_OVERHEAD_TREE") or Path(__file__).resolve().parent.parent)
"""The checkout whose campaign loop is measured: this one, or a baseline's worktree (the baseline arm's process)."""
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import evolve.launch as launch  # noqa: E402
from benchmarks import progress_marks  # noqa: E402
from benchmarks.bulk_programs import grow, program_count  # noqa: E402
from benchmarks.progress_marks import ProgressMarks  # noqa: E402
from tests.scripted_llm_server import ScriptedOpenAIServer, Step  # noqa: E402

SEED = ROOT / "tests" / "candidates" / "relu_evolvable_seed.py"
PLAN = Step("STRATEGY: annotate\nINSTRUCTIONS:\n- [L6] note the fast path")


def program(k: int) -> str:
    """A different program every time, all the seed's size (an edit that piles up lines would grow the sources
    along the lineage and measure that instead)."""
    return SEED.read_text().replace("    # fast path\n", f"    # fast path\n    _variant = {k}\n")


def serve(count: int, ready) -> None:
    """The scripted LLM in its own process: its CPU must not count as the driver's."""
    replies = [Step(f"```python\n{program(k)}```") for k in range(1, count + 1)]
    with ScriptedOpenAIServer({"coder": replies}, fallback={"planner": PLAN}) as server:
        ready.send(server.base_url)
        while True:
            time.sleep(3600)


def config(base_url: str, iterations: int) -> str:
    text = f"""
[campaign]
name = "overhead"
problem = "level1/relu"
seed_program = "{SEED}"
[budget]
iterations = {iterations}
[pipeline]
proposals_in_flight = 2
evaluators = 2
repair_attempts = 0
[evolve]
islands = 4
island_capacity = 16
migration_interval = 20
[evaluator]
trials = 1
profile = false
threads = 1
"""
    for role in ("planner", "coder", "reviewer"):
        text += (f'[agents.{role}]\nkind = "llm"\n[agents.{role}.llm]\nmodel = "{role}"\nbase_url = "{base_url}"\n'
                 'api_key_env = ""\nmax_concurrency = 4\n')   # the scripted server answers many at once
    return text


@dataclass(frozen=True)
class Bucket:
    label: str
    programs: int
    attempts: int
    cpu_ms: float
    wall_ms: float
    loop_cpu_ms: float
    """The loop's own thread (the rest of the process CPU is Ray's threads and the database driver's)."""


def bucket_of(label: str, programs: int, marks: list[tuple[int, float, float, float]]) -> Bucket:
    (n0, cpu0, wall0, loop0), (n1, cpu1, wall1, loop1) = marks[0], marks[-1]
    count = max(1, n1 - n0)
    return Bucket(label, programs, n1 - n0, (cpu1 - cpu0) / count * 1e3, (wall1 - wall0) / count * 1e3,
                  (loop1 - loop0) / count * 1e3)


def run_stark(root: Path, base_url: str, bucket: int, sizes: list[int], console: Console) -> list[Bucket]:
    progress_marks.use()
    (root / "c.toml").write_text(config(base_url, bucket))
    run = root / "runs" / "overhead"
    database = run / "campaign.db"
    launch.start_campaign(root / "c.toml", runs_root=root / "runs", show_progress=False)
    results = [bucket_of(f"1-{bucket}", program_count(database), ProgressMarks.marks)]
    console.print(results[-1])
    for size in sizes:
        added = grow(database, size)
        launch.resume_campaign(run, show_progress=False, extra_iterations=added + bucket)
        results.append(bucket_of(f"{bucket} more at {size // 1000}k", program_count(database), ProgressMarks.marks))
        console.print(results[-1])
    return results


def stark_arm_in(tree: Path, base_url: str, bucket: int, sizes: list[int], out: Path) -> list[Bucket]:
    """The stark arm run by another checkout's code (this file, importing from `tree`), in a process of its own."""
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--arm-json", str(out), "--base-url", base_url,
                    "--bucket", str(bucket), "--sizes", ",".join(map(str, sizes))], cwd=tree, check=True,
                   timeout=7200, env={**os.environ, "STARK_OVERHEAD_TREE": str(tree), "PYTHONPATH": str(tree)})
    return [Bucket(**b) for b in json.loads(out.read_text())]


def mean_buckets(runs: list[list[Bucket]]) -> list[Bucket]:
    """Per bucket, the mean over rounds (attempts summed)."""
    def mean(values) -> float:
        values = list(values)
        return sum(values) / len(values)
    return [Bucket(same[0].label, same[0].programs, sum(b.attempts for b in same), mean(b.cpu_ms for b in same),
                   mean(b.wall_ms for b in same), mean(b.loop_cpu_ms for b in same)) for same in zip(*runs)]


def run_openevolve(python: str, base_url: str, iterations: int, bucket: int, root: Path) -> list[Bucket]:
    out = root / "openevolve.json"
    subprocess.run([python, str(ROOT / "benchmarks" / "openevolve_overhead.py"), "--base-url", base_url,
                    "--iterations", str(iterations), "--bucket", str(bucket), "--seed", str(SEED),
                    "--workdir", str(root / "openevolve"), "--out", str(out)], check=True, timeout=7200)
    return [Bucket(**b) for b in json.loads(out.read_text())]


def report(stark: list[Bucket], openevolve: list[Bucket] | None, console: Console, note: str) -> None:
    table = Table(title=f"driver cost per attempt (instant scripted LLM, relu verify-only, 2 in flight) — {note}")
    for column in ("stark bucket", "programs in db", "attempts", "driver CPU ms", "of which the loop", "wall ms"):
        table.add_column(column, justify="right")
    for b in stark:
        table.add_row(b.label, f"{b.programs:,}", str(b.attempts), f"{b.cpu_ms:.2f}", f"{b.loop_cpu_ms:.2f}",
                      f"{b.wall_ms:.1f}")
    console.print(table)
    first = stark[0]
    console.print(f"growth, last bucket / first: CPU {stark[-1].cpu_ms / first.cpu_ms:.2f}x, "
                  f"wall {stark[-1].wall_ms / first.wall_ms:.2f}x")
    if openevolve is None:
        return
    side = Table(title="OpenEvolve 0.4.0 on the same machine in the same run, same measurement (its main process; "
                       "one LLM call and an in-process evaluation per iteration)")
    for column in ("OpenEvolve bucket", "iterations", "driver CPU ms", "wall ms", "stark 1-1000 / OE CPU",
                   "stark at the largest size / OE CPU"):
        side.add_column(column, justify="right")
    for b in openevolve:
        side.add_row(b.label, str(b.attempts), f"{b.cpu_ms:.2f}", f"{b.wall_ms:.1f}",
                     f"{stark[0].cpu_ms / b.cpu_ms:.2f}", f"{stark[-1].cpu_ms / b.cpu_ms:.2f}")
    console.print(side)


def compare_with(rev: str, rounds: int, root: Path, base_url: str, bucket: int, sizes: list[int],
                 console: Console) -> list[Bucket]:
    """Both arms in processes of their own (Ray started afresh for each), alternating; returns this checkout's
    means for the main table."""
    from benchmarks.worktree import checkout_of, commit_of

    now: list[list[Bucket]] = []
    then: list[list[Bucket]] = []
    with checkout_of(rev) as tree:
        for index in range(2 * rounds):
            mine = index % 4 in (0, 3)
            out = root / f"arm-{index}.json"
            runs = now if mine else then
            runs.append(stark_arm_in(Path(__file__).resolve().parent.parent if mine else tree, base_url, bucket,
                                     sizes, out))
            console.print(f"{'this checkout' if mine else rev}: "
                          + ", ".join(f"{b.label} {b.cpu_ms:.2f} ms" for b in runs[-1]))
    report_baseline(now, then, f"{rev} ({commit_of(rev)[:9]})", console)
    return mean_buckets(now)


def report_baseline(now: list[list[Bucket]], then: list[list[Bucket]], rev: str, console: Console) -> None:
    table = Table(title=f"this checkout against {rev}, same run, alternating ({len(now)} round(s) each): driver CPU "
                        "ms per attempt, each round")
    for column in ("bucket", "this checkout", rev, "this / baseline (means)"):
        table.add_column(column, justify="right")
    for index, (mine, theirs) in enumerate(zip(mean_buckets(now), mean_buckets(then))):
        table.add_row(mine.label, " / ".join(f"{r[index].cpu_ms:.2f}" for r in now),
                      " / ".join(f"{r[index].cpu_ms:.2f}" for r in then), f"{mine.cpu_ms / theirs.cpu_ms:.2f}")
    console.print(table)


def machine_note() -> str:
    load = os.getloadavg()[0]
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load:.1f} at start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", type=int, default=1000, help="attempts measured at each size")
    parser.add_argument("--sizes", default="10000,30000,100000", help="database sizes (programs) to grow to")
    parser.add_argument("--openevolve-python", default="", help="python of a venv holding openevolve==0.4.0")
    parser.add_argument("--openevolve-iterations", type=int, default=2000)
    parser.add_argument("--baseline", default="", help="also run the stark arm on this git revision, alternating")
    parser.add_argument("--rounds", type=int, default=1, help="with --baseline: rounds of each arm")
    parser.add_argument("--arm-json", default="", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    console = Console(width=130)
    if args.arm_json:                  # one stark arm for a baseline comparison, served by the caller's LLM
        launch.ensure_ray()
        results = run_stark(Path(tempfile.mkdtemp(prefix="stark-overhead-")), args.base_url, args.bucket, sizes,
                            console)
        Path(args.arm_json).write_text(json.dumps([vars(b) for b in results]))
        return
    note = machine_note()
    parent, child = multiprocessing.get_context("fork").Pipe()
    arms = 2 * args.rounds if args.baseline else 1
    total = args.bucket * (len(sizes) + 1) * 2 * arms + args.openevolve_iterations * 2
    server = multiprocessing.get_context("fork").Process(target=serve, args=(total, child), daemon=True)
    server.start()
    base_url = parent.recv()
    root = Path(tempfile.mkdtemp(prefix="stark-overhead-"))
    try:
        openevolve = None
        if args.openevolve_python:
            openevolve = run_openevolve(args.openevolve_python, base_url, args.openevolve_iterations, args.bucket, root)
        else:
            console.print("OpenEvolve arm skipped: pass --openevolve-python (a venv with openevolve==0.4.0)")
        if args.baseline:
            stark = compare_with(args.baseline, args.rounds, root, base_url, args.bucket, sizes, console)
        else:
            launch.ensure_ray()
            stark = run_stark(root, base_url, args.bucket, sizes, console)
        report(stark, openevolve, console, note)
    finally:
        server.kill()


if __name__ == "__main__":
    main()
