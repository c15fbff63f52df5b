"""Population diversity before and after twin detection and tie thinning, on the offline configs.

Run: .venv/bin/python benchmarks/population_diversity.py [--attempts 300] [--checkpoints 100 200 300]
         [--configs runs/matmul_offline.toml ...] [--before 98d8090] [--set evolve.islands=4 ...]

`ties` is the case measured in the issue: a scripted instant LLM (the OpenAI-compatible test double) rewrites
relu into a different program every time, all of the same size and none timed (`profile = false`), so every
speedup ties at 0 and the seed (shorter) with its migrant copies holds the first front (4 islands x 16,
migration every 20): before, the copies filled the islands.  Each config runs twice with the same seed and budget: once with the code at `--before` (a git worktree of that
commit: the last one before no-twins-evaluated and capacity-under-ties, by default) and once with this checkout.
From each run's database it reconstructs the islands at every checkpoint (membership from admission and eviction
times against the attempt ledger) and prints, per checkpoint: programs per island (largest), distinct programs
per island (normalized code; mean), the share of evaluations spent on code already evaluated, and the best score
so far.  One campaign per arm: the best score is a single noisy sample, the other columns are counts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from benchmarks.worktree import checkout_of  # noqa: E402
from stark.edits.normalized_code import fingerprint  # noqa: E402
from tests.scripted_llm_server import ScriptedOpenAIServer, Step  # noqa: E402

SEED = ROOT / "tests" / "candidates" / "relu_evolvable_seed.py"

CONFIGS = ["ties", "runs/matmul_offline.toml", "runs/scratchpad_offline.toml", "runs/routing_offline.toml",
           "runs/scheduling_offline.toml", "runs/kv_eviction_offline.toml"]
BEFORE = "98d8090"
PLAN = Step("STRATEGY: rescale\nINSTRUCTIONS:\n- [L7] change the scale factor")


@dataclass(frozen=True, slots=True)
class Snapshot:
    attempts: int
    largest_island: int
    capacity: int
    distinct_per_island: float
    members_per_island: float
    evaluations: int
    repeated_evaluations: int
    duplicates_caught: int
    best: float | None


def run_campaign(code_root: Path, config: Path, runs_root: Path, overrides: list[str]) -> Path:
    """One campaign with the stark found at `code_root`; returns its database."""
    env = {**os.environ, "PYTHONPATH": str(code_root)}
    args = [sys.executable, "-m", "stark.cli", "run", str(config), "--runs-root", str(runs_root), "--no-progress"]
    for override in overrides:
        args += ["--set", override]
    done = subprocess.run(args, cwd=code_root, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{config.name} at {code_root}: exit {done.returncode}: {done.stderr.strip()[-600:]}")
    (database,) = runs_root.glob("*/campaign.db")
    return database


def snapshots(database: Path, checkpoints: list[int], capacity: int) -> list[Snapshot]:
    db = sqlite3.connect(database)
    ended = sorted(t for (t,) in db.execute("SELECT ended_at FROM attempts WHERE status = 'done' AND number > 0"))
    programs = db.execute(
        "SELECT p.id, p.island, p.origin, p.status, p.source, p.score, p.correct, p.in_population, p.evicted_at, "
        "p.created_at, (SELECT MAX(e.created_at) FROM evaluations e WHERE e.program_id = p.id) "
        "FROM programs p ORDER BY p.id").fetchall()
    prints = {row[0]: fingerprint(row[4]) for row in programs}
    out = []
    for checkpoint in checkpoints:
        if checkpoint > len(ended):
            break
        moment = ended[checkpoint - 1]
        islands: dict[int, list[int]] = {}
        seen: set[str] = set()
        evaluations = repeated = caught = 0
        best = None
        for pid, island, origin, status, _, score, correct, member, evicted_at, created_at, evaluated_at in programs:
            admitted_at = created_at if origin == "migration" else evaluated_at
            if status == "duplicate" and created_at <= moment:
                caught += 1
            if admitted_at is None or admitted_at > moment:
                continue
            if (member or evicted_at is not None) and (evicted_at is None or evicted_at > moment) and correct:
                islands.setdefault(island, []).append(pid)
            if origin != "migration" and status in ("evaluated", "failed"):
                evaluations += 1
                repeated += prints[pid] in seen
                seen.add(prints[pid])
                if correct and score is not None:
                    best = score if best is None else max(best, score)
        sizes = [len(ids) for ids in islands.values()]
        distinct = [len({prints[i] for i in ids}) for ids in islands.values()]
        out.append(Snapshot(checkpoint, max(sizes, default=0), capacity, sum(distinct) / max(1, len(distinct)),
                            sum(sizes) / max(1, len(sizes)), evaluations, repeated, caught, best))
    db.close()
    return out


def ties_config(base_url: str, directory: Path) -> Path:
    text = (f'[campaign]\nname = "ties"\nproblem = "level1/relu"\nseed_program = "{SEED}"\n'
            '[pipeline]\nproposals_in_flight = 2\nevaluators = 2\nrepair_attempts = 0\n'
            '[evolve]\nislands = 4\nisland_capacity = 16\nmigration_interval = 20\n'
            '[evaluator]\ntrials = 1\nprofile = false\nthreads = 1\n')
    for role in ("planner", "coder", "reviewer"):
        text += (f'[agents.{role}]\nkind = "llm"\n[agents.{role}.llm]\nmodel = "{role}"\nbase_url = "{base_url}"\n'
                 'api_key_env = ""\nmax_concurrency = 4\n')
    path = directory / "ties.toml"
    path.write_text(text)
    return path


def tied_rewrites(count: int) -> list[Step]:
    """Whole programs (they apply to any parent), each different, all the same size."""
    seed = SEED.read_text()
    return [Step("```python\n" + seed.replace("return torch.relu(x) * 1.0", f"return torch.relu(x) * 1.0 + 0.0 * {1000 + k}")
                 + "```") for k in range(count)]


def capacity_of(config: Path, overrides: list[str]) -> int:
    import tomllib

    for override in overrides:
        if override.startswith("evolve.island_capacity="):
            return int(override.split("=", 1)[1])
    return tomllib.loads(config.read_text()).get("evolve", {}).get("island_capacity", 16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=300)
    parser.add_argument("--checkpoints", type=int, nargs="*", default=None)
    parser.add_argument("--configs", nargs="+", default=CONFIGS)
    parser.add_argument("--before", default=BEFORE, help="git ref of the code to compare with ('' to skip)")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    checkpoints = args.checkpoints or [args.attempts // 3, 2 * args.attempts // 3, args.attempts]
    overrides = [f"budget.iterations={args.attempts}", "budget.wall_time_s=0", *args.overrides]
    with contextlib.ExitStack() as stack:
        arms = [("after", ROOT)]
        if args.before:
            arms.insert(0, ("before", stack.enter_context(checkout_of(args.before))))
        compare(args, arms, checkpoints, overrides)


def compare(args, arms: list[tuple[str, Path]], checkpoints: list[int], overrides: list[str]) -> None:
    console = Console(width=170)
    table = Table(title=f"population diversity, {args.attempts} attempts per campaign "
                        f"({', '.join(overrides[2:]) or 'configs as shipped'})")
    for column in ("config", "code", "attempts", "largest island / capacity", "distinct per island",
                   "evaluations of repeated code", "twins caught", "best score"):
        table.add_column(column, justify="left" if column in ("config", "code") else "right")
    for config_name in args.configs:
        for arm, code_root in arms:
            server = None
            if config_name == "ties":
                server = ScriptedOpenAIServer({"coder": tied_rewrites(args.attempts * 3)},
                                              fallback={"planner": PLAN}).__enter__()
                config = ties_config(server.base_url, Path(tempfile.mkdtemp(prefix="stark-ties-")))
            else:
                config = (ROOT / config_name).resolve()
            console.print(f"[dim]{config.name}: {arm} ({code_root})…[/dim]")
            runs_root = Path(tempfile.mkdtemp(prefix=f"stark-diversity-{arm}-"))
            try:
                database = run_campaign(code_root, config, runs_root, overrides)
            finally:
                if server is not None:
                    server.__exit__(None, None, None)
            for snap in snapshots(database, checkpoints, capacity_of(config, overrides)):
                table.add_row(config.stem, arm, str(snap.attempts), f"{snap.largest_island} / {snap.capacity}",
                              f"{snap.distinct_per_island:.1f} of {snap.members_per_island:.1f}",
                              f"{snap.repeated_evaluations} of {snap.evaluations} "
                              f"({snap.repeated_evaluations / max(1, snap.evaluations):.0%})",
                              str(snap.duplicates_caught), "—" if snap.best is None else f"{snap.best:.4g}")
        table.add_section()
    console.print(table)


if __name__ == "__main__":
    main()
