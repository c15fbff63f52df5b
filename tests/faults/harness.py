"""Driving the real `stark` CLI through faults, and the invariants a run database must hold afterwards.

The invariants are what "exactly once" means here: every attempt number of the budget is in the ledger once
and done; no program is left unscored; no program has two final evaluations; every program an attempt
produced belongs to a number of the budget; every correct program was admitted to the population (and is
still in it, or was evicted on record), and only correct ones are in it.  (Island capacity is the population's
own policy, not a crash-safety property: ties on the first Pareto front are all kept as elites.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, text

from evolve.db.engine import database_url
from tests.conftest import REPO

FAST_CAMPAIGN = ["--set", "pipeline.proposals_in_flight=2", "--set", "pipeline.evaluators=2"]
STARTED: list[subprocess.Popen] = []
"""Every CLI process a test started; tests/faults/conftest.py kills what is left when the test ends."""


def stark(*args: str, env: dict | None = None, prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    """The CLI in its own process group (so a kill takes its Ray workers with it)."""
    process = subprocess.Popen([*prefix, sys.executable, "-m", "stark.cli", *args], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, **(env or {})})
    STARTED.append(process)
    return process


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def run_cli(*args: str, timeout: float = 300, **kwargs) -> tuple[int, str, str]:
    return finish(stark(*args, **kwargs), timeout)


def kill_group(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def wait_until(predicate, timeout: float = 240, process: subprocess.Popen | None = None, poll: float = 0.05):
    """Poll until `predicate()` is truthy; fails early, with the process's output, if the process ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"process ended first (rc {process.returncode}): {process.stderr.read()[-3000:]}")
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


class RunDatabase:
    """Reads a run's database directly (SQLite file or PostgreSQL URL), never through stark's own store."""

    def __init__(self, target: str | Path):
        self.target = target
        self.engine = None

    def query(self, sql: str, **params) -> list[tuple]:
        if isinstance(self.target, Path) and not self.target.exists():
            return []
        if self.engine is None:
            url = database_url(self.target)
            self.engine = create_engine(url if "://" in str(self.target) else f"sqlite:///file:{self.target}?mode=ro&uri=true")
        try:
            with self.engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql), params)]
        except Exception:  # noqa: BLE001 - a table not there yet reads as empty while a run starts
            return []

    def scored(self) -> dict[int, tuple]:
        return {row[0]: row[1:] for row in self.query(
            "SELECT id, status, score, source FROM programs WHERE status IN ('evaluated', 'failed')")}

    def done_attempts(self) -> int:
        return (self.query("SELECT COUNT(*) FROM attempts WHERE status = 'done'") or [(0,)])[0][0]

    def seed_status(self) -> str | None:
        rows = self.query("SELECT status FROM programs WHERE origin = 'seed'")
        return rows[0][0] if rows else None

    def elapsed_s(self) -> float:
        rows = self.query("SELECT state FROM campaigns")
        if not rows:
            return 0.0
        state = rows[0][0]
        state = json.loads(state) if isinstance(state, str) else state
        return float(state.get("elapsed_s", 0.0))

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def assert_exactly_once(db: RunDatabase, budget: int, capacity: int | None = None) -> None:
    numbers = [n for (n,) in db.query("SELECT number FROM attempts ORDER BY number")]
    assert numbers == list(range(1, budget + 1)), f"attempt ledger {numbers}"
    open_ = db.query("SELECT number FROM attempts WHERE status <> 'done'")
    assert not open_, f"attempts never finished: {open_}"
    assert not db.query("SELECT id FROM programs WHERE status = 'proposed'"), "programs left unscored"
    programs = db.query("SELECT id, attempt, origin, status, correct, in_population, evicted_at, island FROM programs")
    produced = Counter(attempt for _, attempt, origin, *_ in programs if origin not in ("seed", "migration"))
    assert set(produced) <= set(range(1, budget + 1)), f"programs outside the budget: {sorted(produced)}"
    assert set(produced) == set(range(1, budget + 1)), "an attempt finished without leaving a program"
    finals = Counter(pid for (pid, provisional) in db.query(
        "SELECT program_id, result FROM evaluations") if not _provisional(provisional))
    twice = [pid for pid, count in finals.items() if count > 1]
    assert not twice, f"programs evaluated twice: {twice}"
    for pid, _, origin, status, correct, in_population, evicted_at, _ in programs:
        if status in ("evaluated", "failed") and origin != "migration":
            assert finals[pid] == 1, f"program {pid} is {status} without its evaluation"
        if status == "evaluated" and correct:
            assert in_population or evicted_at is not None, f"correct program {pid} was never admitted"
        if in_population:
            assert correct and status == "evaluated", f"program {pid} ({status}) in the population"
    twins = db.query("SELECT fingerprint, COUNT(*) FROM programs WHERE status IN ('evaluated', 'failed', 'proposed') "
                     "AND origin <> 'migration' GROUP BY fingerprint HAVING COUNT(*) > 1")
    assert not twins, f"the same normalized code was evaluated more than once: {twins}"
    repeats = db.query("SELECT id, duplicate_of FROM programs WHERE status IN ('duplicate', 'near_duplicate')")
    assert all(original is not None and not finals[pid] for pid, original in repeats), f"repeats {repeats}"
    if capacity is not None:
        sizes = db.query("SELECT island, COUNT(*) FROM programs WHERE in_population GROUP BY island")
        assert all(size <= capacity for _, size in sizes), f"islands over capacity {capacity}: {sizes}"


def _provisional(result) -> bool:
    data = json.loads(result) if isinstance(result, str) else (result or {})
    return bool(data.get("provisional"))


def status_json(run_dir: Path, **kwargs) -> dict:
    code, out, err = run_cli("status", str(run_dir), "--json", timeout=60, **kwargs)
    assert code == 0, err
    return json.loads(out)


def log_events(run_dir: Path) -> list[dict]:
    """The run's campaign.log, one dict per event."""
    return [json.loads(line) for line in (run_dir / "campaign.log").read_text().splitlines()]
