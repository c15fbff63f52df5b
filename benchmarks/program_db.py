"""Program-database latency as a campaign's history grows: one insert+score, one admit, one parent sample.

Run: .venv/bin/python benchmarks/program_db.py [--sizes 1000 10000 100000] [--ops 100]
The history is grown in bulk to each size (realistic 2 KB sources, a third of them failed, a full
population of 4 islands x 16), then each operation is timed `--ops` times at that size.  Ratios are
against the smallest size in the same run: flat means the hot path does not scan the history.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.progress import track  # noqa: E402
from rich.table import Table  # noqa: E402

from evolve.config import EvolveSection  # noqa: E402
from evolve.db.models import Program  # noqa: E402
from evolve.db.store import ProgramStore  # noqa: E402
from evolve.islands import IslandModel  # noqa: E402

SOURCE = "x = 1\n" * 340
RESULT = {"failure": None, "speedup_vs_eager": 1.0, "stages": [], "profile": None}


def grow(store: ProgramStore, campaign: int, start: int, stop: int, rng: random.Random) -> None:
    with store.sessions.begin() as s:
        for i in range(start, stop):
            failed = rng.random() < 1 / 3
            s.add(Program(campaign_id=campaign, attempt=i, parent_id=rng.randrange(1, i) if i > 1 else None,
                          island=i % 4, generation=0, origin="mutation", source=SOURCE, status="failed" if failed else "evaluated",
                          correct=not failed, score=None if failed else rng.random() * 3,
                          objectives=[] if failed else [rng.random() * 3, -rng.randrange(2000, 3000)],
                          features={"code_lines": rng.randrange(10, 200)}))


def timed(fn, ops: int) -> float:
    samples = []
    for _ in range(ops):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def measure(store: ProgramStore, campaign: int, islands: IslandModel, ops: int, rng: random.Random) -> dict[str, float]:
    attempt = [10**7]

    def insert_and_score():
        attempt[0] += 1
        pid = store.add_program(campaign, attempt=attempt[0], source=SOURCE, parent_id=1, island=0, generation=1,
                                origin="mutation")
        store.record_evaluation(pid, RESULT, objectives=[rng.random() * 3, -2040.0], features={"code_lines": 50})
        return pid

    latest = []
    row = {"insert+score ms": timed(lambda: latest.append(insert_and_score()), ops)}
    row["admit ms"] = timed(lambda: islands.admit(latest.pop()), min(ops, len(latest)))
    for strategy in ("pareto_tournament", "uniform", "epsilon_greedy"):
        islands.settings = EvolveSection(islands=4, island_capacity=16, sampler=strategy)
        row[f"sample {strategy} ms"] = timed(lambda: islands.select(rng, 3), ops)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--ops", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(0)
    store = ProgramStore(Path(tempfile.mkdtemp(prefix="stark-dbbench-")) / "bench.db")
    campaign = store.create_campaign("bench", "level1/relu", {})
    islands = IslandModel(store, campaign, EvolveSection(islands=4, island_capacity=16))
    rows, size_now = {}, 1
    for size in args.sizes:
        for chunk in track(range(size_now, size, 5000), description=f"growing to {size}"):
            grow(store, campaign, chunk, min(chunk + 5000, size), rng)
        size_now = size
        population = [p.id for p in store.programs(campaign, statuses=["evaluated"])[:64]]
        store.set_population(campaign, population, [])
        islands.forget()            # the islands are kept in memory: read the population just written
        rows[size] = measure(store, campaign, islands, args.ops, rng)
    base = rows[args.sizes[0]]
    table = Table(title=f"program database on SQLite (median of {args.ops} ops; ratio vs {args.sizes[0]} programs)")
    table.add_column("operation")
    for size in args.sizes:
        table.add_column(f"{size:,} programs", justify="right")
    for op in base:
        table.add_row(op, *(f"{rows[s][op]:.2f} ({rows[s][op] / base[op]:.1f}x)" for s in args.sizes))
    Console().print(table)


if __name__ == "__main__":
    main()
