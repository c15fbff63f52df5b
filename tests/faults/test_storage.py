"""Storage faults against the real CLI: a full disk, an empty or corrupt database, a broken or incompatibly
edited config.json, a read-only run directory.  Each ends in one line naming the file and what to do, and
nothing already recorded is lost or rewritten."""

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import REPO
from tests.faults.harness import FAST_CAMPAIGN, run_cli, stark

pytestmark = pytest.mark.slow
CONFIG = "runs/scratchpad_offline.toml"
BUDGET, CAPACITY = 8, 12


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("finished")
    code, _, err = run_cli("run", CONFIG, "--runs-root", str(runs), "--no-progress",
                           "--set", f"budget.iterations={BUDGET}", *FAST_CAMPAIGN)
    assert code == 0, err
    return runs / "scratchpad-offline"


@pytest.fixture
def run_copy(finished_run, tmp_path):
    copy = tmp_path / "scratchpad-offline"
    shutil.copytree(finished_run, copy)
    (copy / "lock").unlink(missing_ok=True)
    return copy


def one_line_error(code: int, err: str, *fragments: str) -> None:
    lines = [line for line in err.splitlines() if "INFO worker.py" not in line]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_an_empty_database_is_refused_and_left_as_it_is(run_copy):
    db = run_copy / "campaign.db"
    for suffix in ("", "-wal", "-shm"):
        (run_copy / f"campaign.db{suffix}").unlink(missing_ok=True)
    db.touch()
    for command in (["status", str(run_copy)], ["resume", str(run_copy), "--no-progress"],
                    ["report", str(run_copy), "--out", str(run_copy.parent / "report")]):
        code, _, err = run_cli(*command, timeout=120)
        one_line_error(code, err, str(db), "empty (0 bytes)")
        assert db.stat().st_size == 0


def test_corrupt_pages_are_one_line_naming_the_file(run_copy):
    db = run_copy / "campaign.db"
    with sqlite3.connect(db) as conn:                      # fold the WAL in, so the pages we break are the data
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    for page in range(2, len(data) // 4096):
        data[page * 4096 + 8: page * 4096 + 200] = b"\xa5" * 192
    db.write_bytes(bytes(data))
    broken = db.read_bytes()
    for command in (["status", str(run_copy)], ["resume", str(run_copy), "--no-progress", "--more", "2"]):
        code, _, err = run_cli(*command, timeout=120)
        one_line_error(code, err, str(db))
        assert "malformed" in err or "corrupt" in err or "not a database" in err
    assert db.read_bytes() == broken


@pytest.mark.parametrize("edit,fragment", [
    (lambda c: c["campaign"].update(problem="discovery/kv_cache_eviction"), "campaign.problem changed"),
    (lambda c: c["evolve"]["objectives"][0].update(direction="max"), "evolve.objectives changed"),
    (lambda c: c["campaign"].update(seed=7), "campaign.seed changed"),
    (lambda c: c["budget"].update(iterations="many"), "budget.iterations: expected int"),
])
def test_config_edits_that_change_what_scores_mean_are_refused(run_copy, edit, fragment):
    config_file = run_copy / "config.json"
    config = json.loads(config_file.read_text())
    edit(config)
    config_file.write_text(json.dumps(config))
    before = snapshot(run_copy)
    code, _, err = run_cli("resume", str(run_copy), "--no-progress", "--more", "2", timeout=120)
    one_line_error(code, err, str(config_file), fragment)
    after = snapshot(run_copy)
    assert {k: v for k, v in after.items() if k != "lock"} == {k: v for k, v in before.items() if k != "lock"}


def test_invalid_json_config_is_one_line(run_copy):
    config_file = run_copy / "config.json"
    config_file.write_text(config_file.read_text()[:-40])
    for command in (["status", str(run_copy)], ["resume", str(run_copy), "--no-progress"]):
        code, _, err = run_cli(*command, timeout=120)
        one_line_error(code, err, str(config_file), "invalid JSON")


def read_only_mount(directory) -> tuple[str, ...]:
    """A command prefix that runs inside a mount namespace where `directory` is a read-only bind mount."""
    script = f'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" "$0" && exec "$@"'
    return ("unshare", "-m", "--propagation", "private", "sh", "-c", script, str(directory))


def test_read_only_run_directory_can_be_read_and_is_never_written(run_copy, tmp_path):
    probe = subprocess.run([*read_only_mount(run_copy), "touch", str(run_copy / "x")], capture_output=True)
    if probe.returncode == 0 or b"Read-only" not in probe.stderr:
        pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.decode()[:200]}")
    before = snapshot(run_copy)
    code, out, err = run_cli("status", str(run_copy), "--json", prefix=read_only_mount(run_copy), timeout=120)
    assert code == 0, err
    assert json.loads(out)["attempts"] == BUDGET
    report = tmp_path / "report"
    code, _, err = run_cli("report", str(run_copy), "--format", "json", "--out", str(report),
                           prefix=read_only_mount(run_copy), timeout=120)
    assert code == 0, err                                       # a discovery run: its own table, in its units
    assert [d["problem_id"] for d in json.loads((report / "leaderboard.json").read_text())["discovery"]] == [
        json.loads(out)["problem"]]
    assert snapshot(run_copy) == before
    with sqlite3.connect(run_copy / "campaign.db") as conn:    # one that needs migrating: a hint, no write
        conn.execute("DROP TABLE attempts")
        conn.execute("UPDATE schema_info SET version = 2")
    before = snapshot(run_copy)
    code, _, err = run_cli("status", str(run_copy), prefix=read_only_mount(run_copy), timeout=120)
    one_line_error(code, err, "needs migrating", "stark resume")
    assert snapshot(run_copy) == before


def in_small_disk(directory, size: str) -> subprocess.Popen | None:
    """A process holding a mount namespace with a tmpfs of `size` on `directory` (None where mounts are not
    allowed); commands run inside it through nsenter."""
    holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                               f'mount -t tmpfs -o size={size} tmpfs "$0" && echo ready && exec sleep 900',
                               str(directory)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if holder.stdout.readline().strip() != "ready":
        holder.kill()
        return None
    return holder


def test_a_full_disk_stops_with_one_line_and_a_resume_loses_nothing(tmp_path):
    runs = tmp_path / "small"
    runs.mkdir()
    holder = in_small_disk(runs, "32m")
    if holder is None:
        pytest.skip("cannot mount a tmpfs here (needs root and unshare -m)")
    inside = ("nsenter", "-t", str(holder.pid), "-m", f"--wd={REPO}", "--")

    def python_inside(code: str) -> subprocess.CompletedProcess:
        return subprocess.run([*inside, sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)

    db = runs / "scratchpad-offline" / "campaign.db"
    count_scored = (f"from tests.faults.harness import RunDatabase; from pathlib import Path; "
                    f"print(RunDatabase(Path({str(db)!r})).scored().__len__())")
    try:
        subprocess.run([*inside, "dd", "if=/dev/zero", f"of={runs}/filler", "bs=1k", "count=32000"],
                       capture_output=True, check=True)
        budget = 150
        process = stark("run", CONFIG, "--runs-root", str(runs), "--no-progress", "--set",
                        f"budget.iterations={budget}", *FAST_CAMPAIGN, prefix=inside)
        _, err = process.communicate(timeout=400)
        one_line_error(process.returncode, err, "disk full", "stark resume")
        before = python_inside(count_scored)
        assert int(before.stdout) > 0, before.stderr
        subprocess.run([*inside, "rm", f"{runs}/filler"], check=True)
        process = stark("resume", str(runs / "scratchpad-offline"), "--no-progress", prefix=inside)
        _, err = process.communicate(timeout=400)
        assert process.returncode == 0, err
        check = python_inside(INVARIANTS.format(db=str(db), budget=budget, capacity=CAPACITY))
        assert check.returncode == 0, check.stderr[-3000:]
    finally:
        holder.kill()


INVARIANTS = """
from pathlib import Path
from tests.faults.harness import RunDatabase, assert_exactly_once
assert_exactly_once(RunDatabase(Path({db!r})), {budget}, {capacity})
"""
