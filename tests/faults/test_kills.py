"""Kills at any moment (kill -9, SIGTERM, Ctrl-C; during the seed's evaluation too), two writers on one run,
and what `stark status` says meanwhile: every resume ends with each attempt number of the budget done exactly
once, nothing scored lost or scored twice, and wall time counted across the kills."""

import signal

import pytest

from tests.faults.harness import (FAST_CAMPAIGN, RunDatabase, assert_exactly_once, finish, kill_group, run_cli, stark,
                                  status_json, wait_until)

pytestmark = pytest.mark.slow
CONFIG = "runs/scratchpad_offline.toml"
CAPACITY = 12


def start(runs, budget: int):
    return stark("run", CONFIG, "--runs-root", str(runs), "--no-progress", "--set", f"budget.iterations={budget}",
                 *FAST_CAMPAIGN)


def resume(run_dir, *extra):
    return stark("resume", str(run_dir), "--no-progress", *extra)


def test_a_kill_during_the_seed_evaluation_resumes(tmp_path):
    run_dir = tmp_path / "scratchpad-offline"
    db = RunDatabase(run_dir / "campaign.db")
    run = start(tmp_path, 6)
    wait_until(lambda: db.seed_status() == "proposed", process=run, poll=0.01)
    kill_group(run)
    run.wait()
    assert db.seed_status() == "proposed"
    assert status_json(run_dir)["status"].startswith("stopped unexpectedly")
    code, _, err = finish(resume(run_dir))
    assert code == 0, err
    assert_exactly_once(db, 6, CAPACITY)
    assert db.query("SELECT COUNT(*) FROM programs WHERE origin = 'seed'") == [(1,)]
    assert status_json(run_dir)["status"] == "finished"


def test_kill9_sigterm_and_ctrl_c_in_turn_lose_and_repeat_nothing(tmp_path):
    budget = 24
    run_dir = tmp_path / "scratchpad-offline"
    db = RunDatabase(run_dir / "campaign.db")
    process = start(tmp_path, budget)
    elapsed, scored = 0.0, {}
    for stop, expected_code in ((signal.SIGKILL, -9), (signal.SIGTERM, 143), (signal.SIGINT, 130)):
        reached = db.done_attempts() + 5
        wait_until(lambda: db.done_attempts() >= reached, process=process)
        kill_group(process, stop) if stop == signal.SIGKILL else process.send_signal(stop)
        code, _, err = finish(process, timeout=120)
        assert code == expected_code, err
        if stop != signal.SIGKILL:
            assert "everything evaluated is saved" in err and status_json(run_dir)["status"] == "interrupted"
        now = db.scored()
        assert all(now[pid] == row for pid, row in scored.items()), "a scored program changed or vanished"
        scored = now
        assert db.elapsed_s() >= elapsed
        elapsed = db.elapsed_s()
        process = resume(run_dir)
    code, _, err = finish(process)
    assert code == 0, err
    assert_exactly_once(db, budget, CAPACITY)
    assert all(db.scored()[pid] == row for pid, row in scored.items())
    assert db.elapsed_s() > elapsed


def test_one_writer_per_run_and_status_tells_who(tmp_path):
    run_dir = tmp_path / "scratchpad-offline"
    db = RunDatabase(run_dir / "campaign.db")
    first = start(tmp_path, 100000)
    wait_until(lambda: db.done_attempts() >= 2, process=first)
    code, _, err = run_cli("resume", str(run_dir), "--no-progress", timeout=60)
    assert code == 2 and err.count("\n") == 1, err
    assert f"is in use by pid {first.pid}" in err
    code, _, err = run_cli("run", CONFIG, "--runs-root", str(tmp_path), "--no-progress", timeout=60)
    assert code == 2 and f"in use by pid {first.pid}" in err
    summary = status_json(run_dir)
    assert summary["status"] == "running" and str(first.pid) in summary["holder"]
    kill_group(first)
    first.wait()
    assert status_json(run_dir)["status"].startswith("stopped unexpectedly")
    second = resume(run_dir)                           # the dead holder's lock does not block
    wait_until(lambda: status_json(run_dir)["status"] == "running", process=second, poll=0.5)
    second.send_signal(signal.SIGINT)
    code, _, err = finish(second, timeout=120)
    assert code == 130, err
    numbers = [n for (n,) in db.query("SELECT number FROM attempts ORDER BY number")]
    assert numbers == list(range(1, len(numbers) + 1))
