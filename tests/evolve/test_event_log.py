"""The campaign's kept-open log: the same lines as a run directory's own appends, none lost to a kill."""

from __future__ import annotations

import json
import multiprocessing
import os

from evolve.event_log import EventLog
from evolve.run_dir import RunDir


def _log_and_die(path) -> None:
    log = EventLog(path)
    for k in range(3):
        log.append("attempt", number=k)
    os._exit(9)          # no close, no flush, no atexit: what a kill -9 leaves


def test_lines_interleave_whole_with_other_writers_and_survive_a_kill(tmp_path):
    run_dir = RunDir(tmp_path)
    log = EventLog(run_dir.log)
    log.append("start", attempts=2, where=tmp_path)
    run_dir.append_log("resume", more=5)         # another writer (launch's own lines) between two of ours
    log.append("new best", program=7, score=1.5)
    child = multiprocessing.get_context("fork").Process(target=_log_and_die, args=(run_dir.log,))
    child.start()
    child.join(30)
    assert child.exitcode == 9
    log.close()
    log.append("after close", ok=True)          # reopened on demand
    log.close()
    lines = [json.loads(line) for line in run_dir.log.read_text().splitlines()]
    assert [line["event"] for line in lines] == ["start", "resume", "new best", "attempt", "attempt", "attempt",
                                                 "after close"]
    assert lines[0]["where"] == str(tmp_path) and lines[2]["score"] == 1.5
    assert [line["number"] for line in lines[3:6]] == [0, 1, 2]
    assert all(isinstance(line["time"], float) for line in lines)
