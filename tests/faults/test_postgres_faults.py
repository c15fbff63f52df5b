"""The same guarantees on PostgreSQL: kill -9 and resume, and one writer per campaign even from another run
directory (another machine), through the database's advisory lock."""

import shutil

import pytest
from sqlalchemy import create_engine, text

from evolve.run_lock import RunLock
from tests.faults.harness import (FAST_CAMPAIGN, RunDatabase, assert_exactly_once, finish, kill_group, run_cli, stark,
                                  status_json, wait_until)

pytestmark = pytest.mark.slow


@pytest.fixture
def faults_database(postgres_url):
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS faults"))
        conn.execute(text("CREATE DATABASE faults"))
    admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + "/faults"


def test_kill9_resume_and_one_writer_on_postgres(faults_database, tmp_path):
    budget = 40
    run_dir = tmp_path / "runs" / "scratchpad-offline"
    db = RunDatabase(faults_database)
    first = stark("run", "runs/scratchpad_offline.toml", "--runs-root", str(tmp_path / "runs"), "--no-progress",
                  "--set", f"budget.iterations={budget}", "--set", f'campaign.database="{faults_database}"',
                  *FAST_CAMPAIGN)
    wait_until(lambda: db.done_attempts() >= 5, process=first)
    kill_group(first)
    first.wait()
    scored = db.scored()
    assert status_json(run_dir)["status"].startswith("stopped unexpectedly")
    assert not (run_dir / "campaign.db").exists()

    elsewhere = tmp_path / "other-machine" / "scratchpad-offline"     # the same run, from another directory
    shutil.copytree(run_dir, elsewhere, ignore=shutil.ignore_patterns("lock"))
    writer = RunLock(tmp_path)                        # a writer elsewhere holds the campaign's advisory lock
    engine = create_engine(faults_database)
    writer.hold_database(engine, "scratchpad-offline")
    try:
        code, _, err = run_cli("resume", str(elsewhere), "--no-progress", timeout=120)
        assert code == 2 and err.count("\n") == 1 and "advisory lock" in err, err
    finally:
        writer.release()
        engine.dispose()

    code, _, err = finish(stark("resume", str(elsewhere), "--no-progress"), timeout=300)
    assert code == 0, err                             # the lock went with its holder's session
    assert_exactly_once(db, budget, 12)
    assert all(db.scored()[pid] == row for pid, row in scored.items())
    db.close()
