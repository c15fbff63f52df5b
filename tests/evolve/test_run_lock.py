"""The run lock: held by one process, visible to readers without taking it, gone when its holder dies, and not
dropped when the holder itself reads the lock file (the classic POSIX record lock would be)."""

import subprocess
import sys

import pytest

from evolve.run_lock import RunLock, RunLocked, holder_of, live_elapsed, live_status
from tests.conftest import REPO

HOLDER = """
import sys, time
from pathlib import Path
from evolve.run_lock import RunLock, holder_of
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
holder_of(Path(sys.argv[1]))          # the holder opening and closing the file must not release it
Path(sys.argv[1], "lock").read_text()
print("held", flush=True)
time.sleep(60)
"""


def test_lock_is_exclusive_visible_and_dies_with_its_holder(tmp_path):
    assert holder_of(tmp_path) is None
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        assert f"pid {child.pid}" in holder_of(tmp_path)
        with pytest.raises(RunLocked, match=f"in use by pid {child.pid}"):
            RunLock(tmp_path).acquire()
    finally:
        child.kill()
        child.wait()
    assert holder_of(tmp_path) is None
    with RunLock(tmp_path):
        pass


def test_live_status_and_elapsed_follow_the_holder_and_the_clock():
    from datetime import datetime, timedelta, timezone

    saved = datetime(2026, 1, 1, 12, 0, 0)                       # naive, as SQLite hands it back (UTC)
    now = saved.replace(tzinfo=timezone.utc) + timedelta(seconds=45)
    before, after = saved.replace(tzinfo=timezone.utc).timestamp() - 60, saved.replace(tzinfo=timezone.utc).timestamp() + 5
    assert live_status("running", None).startswith("stopped unexpectedly")
    assert live_status("finished", "pid 1", saved, after) == "resuming (was finished)"
    assert live_status("finished", "pid 1", saved, before) == "finished", "its own holder, shutting down"
    assert live_status("finished", None, saved, None) == "finished"
    assert live_elapsed(100.0, saved, "running", "pid 1", before, now) == 145.0
    assert live_elapsed(100.0, saved, "running", "pid 1", after, now) == 100.0, "a resumed run's dead time"
    assert live_elapsed(100.0, saved, "finished", None, None, now) == 100.0
    assert live_elapsed(100.0, saved, "running", None, None, now) == 100.0
