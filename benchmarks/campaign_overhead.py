"""Campaign framework overhead per iteration, with an instant scripted LLM and a trivial evaluation.

Run: .venv/bin/python benchmarks/campaign_overhead.py [--iterations 300]
Arm A runs a real campaign (Ray agent actors calling the scripted OpenAI-compatible test double over HTTP,
the SQLite program database, islands, the evaluator pool) on level1/relu with verification only.
Arm B, the baseline, pushes the same number of the same evaluations through the same evaluator pool
with the same concurrency and nothing else.  (A - B) / iterations is what the framework adds per
iteration; the per-iteration time of the first and last 50 iterations shows whether it grows as the
population fills (OpenEvolve 0.4.0, for reference, was reported to go from ~7 ms to ~40 ms).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from evaluators.config import EvalConfig, EvalRequest  # noqa: E402
from evaluators.pool import EvaluatorPool  # noqa: E402
from evolve.launch import ensure_ray, start_campaign  # noqa: E402
from kernelbench.registry import resolve_problem  # noqa: E402
from tests.scripted_llm_server import ScriptedOpenAIServer, Step  # noqa: E402

SEED = ROOT / "tests" / "candidates" / "relu_evolvable_seed.py"
PLAN = Step("STRATEGY: annotate\nINSTRUCTIONS:\n- [L6] note the fast path")


def edits(count: int) -> list[Step]:
    """A different program every time (a comment-only edit would be a duplicate of its parent, never evaluated)."""
    return [Step(f"<<<<<<< SEARCH\n    # fast path\n=======\n    # fast path\n    _variant = {k}\n>>>>>>> REPLACE")
            for k in range(count)]


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


def iteration_times(db: Path) -> list[float]:
    with sqlite3.connect(db) as conn:
        stamps = [datetime.fromisoformat(r[0]).timestamp() for r in conn.execute(
            "SELECT created_at FROM evaluations ORDER BY id")][1:]
    return [b - a for a, b in zip(stamps, stamps[1:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    ensure_ray()
    root = Path(tempfile.mkdtemp(prefix="stark-overhead-"))
    with ScriptedOpenAIServer({"coder": edits(args.iterations * 2)}, fallback={"planner": PLAN}) as server:
        (root / "c.toml").write_text(config(server.base_url, args.iterations))
        start = time.perf_counter()
        start_campaign(root / "c.toml", runs_root=root / "runs", show_progress=True)
        campaign_s = time.perf_counter() - start
    pool = EvaluatorPool(2)
    request = EvalRequest(resolve_problem("level1/relu"), SEED.read_text(), EvalConfig(trials=1, profile=False, threads=1))
    pool.evaluate(request)
    start = time.perf_counter()
    results = [r for _, r in pool.map([request] * args.iterations)]
    baseline_s = time.perf_counter() - start
    pool.shutdown()
    assert all(r.passed for r in results)
    gaps = iteration_times(root / "runs" / "overhead" / "campaign.db")
    table = Table(title=f"campaign overhead, {args.iterations} iterations (2 in flight, 2 evaluators)")
    for column in ("measure", "value"):
        table.add_column(column)
    table.add_row("campaign, per iteration (incl. start-up)", f"{campaign_s / args.iterations * 1e3:.1f} ms")
    table.add_row("evaluator pool alone (baseline), per evaluation", f"{baseline_s / args.iterations * 1e3:.1f} ms")
    table.add_row("framework overhead per iteration", f"{(campaign_s - baseline_s) / args.iterations * 1e3:.1f} ms")
    table.add_row("campaign / baseline", f"{campaign_s / baseline_s:.2f}x")
    table.add_row("median iteration gap, first 50", f"{statistics.median(gaps[:50]) * 1e3:.1f} ms")
    table.add_row("median iteration gap, last 50", f"{statistics.median(gaps[-50:]) * 1e3:.1f} ms")
    table.add_row("last 50 / first 50", f"{statistics.median(gaps[-50:]) / statistics.median(gaps[:50]):.2f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
