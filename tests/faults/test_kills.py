"""Kills at any moment — kill -9 during the seed's evaluation and mid-run, SIGTERM, Ctrl-C — one after another
on one run, a second writer refused meanwhile, and what `stark status` says throughout: the last resume ends
with each attempt number of the budget done exactly once, nothing scored lost or scored twice, and wall time
counted across the kills."""

import json
import signal
import time

import pytest

from tests.faults.harness import (FAST_CAMPAIGN, RunDatabase, assert_exactly_once, finish, kill_group, run_cli, stark,
                                  status_json, wait_until)

pytestmark = pytest.mark.slow
CONFIG = "runs/scratchpad_offline.toml"


def test_kill9_sigterm_and_ctrl_c_in_turn_lose_and_repeat_nothing(tmp_path):
    budget = 30
    run_dir = tmp_path / "scratchpad-offline"
    db = RunDatabase(run_dir / "campaign.db")
    process = stark("run", CONFIG, "--runs-root", str(tmp_path), "--no-progress", "--set",
                    f"budget.iterations={budget}", *FAST_CAMPAIGN)
    wait_until(lambda: db.seed_status() == "proposed", process=process, poll=0.01)
    kill_group(process)                                     # during the seed's evaluation
    process.wait()
    assert db.seed_status() == "proposed"
    assert status_json(run_dir)["status"].startswith("stopped unexpectedly")

    elapsed, scored = 0.0, {}
    for stop, expected_code in ((signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGKILL, -9)):
        process = stark("resume", str(run_dir), "--no-progress")
        reached = db.done_attempts() + 5
        wait_until(lambda: db.done_attempts() >= reached, process=process)
        kill_group(process) if stop == signal.SIGKILL else process.send_signal(stop)
        code, _, err = finish(process, timeout=120)
        assert code == expected_code, err
        if stop == signal.SIGKILL:
            assert status_json(run_dir)["status"].startswith("stopped unexpectedly")
        else:
            assert "everything evaluated is saved" in err and status_json(run_dir)["status"] == "interrupted"
        now = db.scored()
        assert all(now[pid] == row for pid, row in scored.items()), "a scored program changed or vanished"
        assert db.elapsed_s() >= elapsed
        scored, elapsed = now, db.elapsed_s()

    code, _, err = finish(stark("resume", str(run_dir), "--no-progress"))
    assert code == 0, err
    assert_exactly_once(db, budget, 12)
    assert db.query("SELECT COUNT(*) FROM programs WHERE origin = 'seed'") == [(1,)]
    assert all(db.scored()[pid] == row for pid, row in scored.items())
    assert db.elapsed_s() > elapsed
    assert status_json(run_dir)["status"] == "finished"
    started = time.monotonic()                             # a spent budget is refused at once, before Ray starts
    code, _, err = run_cli("resume", str(run_dir), "--no-progress", timeout=60)
    assert code == 2 and f"already made all {budget} attempts" in err and "--more N" in err, err
    assert time.monotonic() - started < 20

    writer = stark("resume", str(run_dir), "--no-progress", "--more", "100000")   # one writer at a time
    reached = db.done_attempts() + 3
    wait_until(lambda: db.done_attempts() >= reached, process=writer)
    code, _, err = run_cli("resume", str(run_dir), "--no-progress", timeout=60)
    assert code == 2 and err.count("\n") == 1 and f"is in use by pid {writer.pid}" in err, err
    summary = status_json(run_dir)
    assert summary["status"] == "running" and f"pid {writer.pid}" in summary["holder"]
    writer.send_signal(signal.SIGINT)
    code, _, err = finish(writer, timeout=120)
    assert code == 130, err
    assert json.loads((run_dir / "config.json").read_text())["budget"]["iterations"] == budget + 100000
