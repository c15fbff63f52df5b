"""The offline campaign as a user runs it: `stark run`, killed mid-run, `stark resume`, `stark status`.
(Every other kind of fault, on a faster problem, is in tests/faults.)"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO
from tests.faults.harness import RunDatabase, assert_exactly_once

pytestmark = pytest.mark.slow
ITERATIONS = 20


def stark(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "stark.cli", *args], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, **kwargs)


def evaluated(db):
    if not db.exists():
        return {}
    with sqlite3.connect(db) as conn:
        try:
            rows = conn.execute("SELECT id, status, score, source FROM programs WHERE status IN ('evaluated', 'failed')")
            return {row[0]: row[1:] for row in rows}
        except sqlite3.OperationalError:
            return {}


def test_killed_run_resumes_without_losing_evaluated_programs(tmp_path):
    runs = tmp_path / "runs"
    db = runs / "matmul-offline" / "campaign.db"
    run = stark("run", "runs/matmul_offline.toml", "--runs-root", str(runs), "--no-progress",
                "--set", f"budget.iterations={ITERATIONS}", "--set", "budget.wall_time_s=0")
    deadline = time.monotonic() + 240
    while len(evaluated(db)) < 6 and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    before = evaluated(db)
    assert len(before) >= 6, run.stdout.read()

    resumed = stark("resume", str(runs / "matmul-offline"), "--no-progress")
    output, _ = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, output
    after = evaluated(db)
    assert all(after[pid] == row for pid, row in before.items())

    status = subprocess.run([sys.executable, "-m", "stark.cli", "status", str(runs / "matmul-offline"), "--json"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    summary = json.loads(status.stdout)
    assert summary["status"] == "finished" and summary["attempts"] == ITERATIONS
    assert_exactly_once(RunDatabase(db), ITERATIONS, 12)
    assert summary["counts"].get("proposed", 0) == 0
    with sqlite3.connect(db) as conn:
        seed_speedup = conn.execute("SELECT score FROM programs WHERE origin = 'seed'").fetchone()[0]
    assert summary["best_score"] > seed_speedup * 1.2
    assert (runs / "matmul-offline" / "best.py").read_text() != (REPO / "kernelbench/candidates/matmul_square_tiled.py").read_text()


def test_starting_a_campaign_twice_is_refused(tmp_path):
    runs = tmp_path / "runs"
    (runs / "matmul-offline").mkdir(parents=True)
    (runs / "matmul-offline" / "config.json").write_text("{}")
    run = subprocess.run([sys.executable, "-m", "stark.cli", "run", "runs/matmul_offline.toml", "--runs-root",
                          str(runs)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "already holds a campaign" in run.stderr


@pytest.mark.parametrize("setting,message", [
    ("evolve.islandz=2", "unknown config key evolve.islandz"),
    ("campaign.seed_program=\"missing.py\"", f"seed program not found: {REPO / 'runs' / 'missing.py'}"),
])
def test_bad_campaign_input_is_one_line(tmp_path, setting, message):
    run = subprocess.run([sys.executable, "-m", "stark.cli", "run", "runs/matmul_offline.toml", "--runs-root",
                          str(tmp_path), "--set", setting], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and run.stderr.strip() == f"error: {message}"


def test_status_of_a_corrupt_database_is_one_line(tmp_path):
    run_dir = tmp_path / "broken"
    run_dir.mkdir()
    config = {"campaign": {"name": "broken", "problem": "level1/relu", "seed_program": "x.py"}}
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "campaign.db").write_bytes(b"garbage" * 200)
    run = subprocess.run([sys.executable, "-m", "stark.cli", "status", str(run_dir)], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error: cannot open run database") and "file is not a database" in run.stderr
    assert (run_dir / "campaign.db").read_bytes() == b"garbage" * 200
