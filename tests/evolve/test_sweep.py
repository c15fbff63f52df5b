"""`stark sweep`: one campaign per problem of a level from one template config, seeded from each problem's own
Model, a problem that cannot run recorded and skipped, resumable as a whole, and reported as one leaderboard."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from evolve.db.store import ProgramStore
from evolve.leaderboard_runs import run_column
from evolve.sweep import SweepBudget, run_sweep, select_problems
from tests.conftest import REPO
from tests.faults.harness import log_events

SCALE = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def __init__(self):
        super(Model, self).__init__()

    def forward(self, x):
        return x * {factor}


batch_size = 64
dim = 1024


def get_inputs():
    return [torch.rand(batch_size, dim)]


def get_init_inputs():
    return []
'''

BROKEN = SCALE.replace("return [torch.rand(batch_size, dim)]", "raise RuntimeError('this problem is broken')")

CONFIG = '''[campaign]
name = "template"
problem = "level1/relu"
seed_program = "unused.py"

[budget]
iterations = 50

[pipeline]
proposals_in_flight = 1
evaluators = 1

[evolve]
islands = 1

[remeasure]
enabled = false

[evaluator]
trials = 2
warmup = 1
repeats = 3
threads = 1
compare_compile = false

[agents.planner]
kind = "offline"

[agents.coder]
kind = "offline"

[agents.reviewer]
kind = "offline"
'''


def checkout(tmp_path: Path) -> Path:
    level1 = tmp_path / "kb" / "KernelBench" / "level1"
    level1.mkdir(parents=True)
    (level1 / "1_Double.py").write_text(SCALE.format(factor="2.0"))
    (level1 / "2_Broken.py").write_text(BROKEN.format(factor="3.0"))
    (level1 / "3_Half.py").write_text(SCALE.format(factor="0.5"))
    (tmp_path / "kb" / "KernelBench" / "level2").mkdir()
    (tmp_path / "kb" / "KernelBench" / "level2" / "1_Other.py").write_text(SCALE.format(factor="4.0"))
    (tmp_path / "sweep.toml").write_text(CONFIG)
    return tmp_path / "kb"


def attempts(run_dir: Path) -> int:
    store = ProgramStore(run_dir / "campaign.db", create=False, read_only=True)
    try:
        return store.attempts_done(store.campaign_id(run_dir.name))
    finally:
        store.close()


def test_a_sweep_runs_a_level_records_what_cannot_run_resumes_and_reports(ray_session, tmp_path):
    kb = checkout(tmp_path)
    refs = select_problems([1], [], str(kb))
    assert [r.problem_id for r in refs] == ["kb/level1/1_Double", "kb/level1/2_Broken", "kb/level1/3_Half"]
    out = tmp_path / "runs" / "sweep"
    budget = SweepBudget(per_problem=50, total=6)       # 6 attempts shared by 3 problems: 2 each
    outcomes = run_sweep(tmp_path / "sweep.toml", refs, out, budget, kernelbench_dir=str(kb), show_progress=False)
    by_problem = {o.problem_id: o for o in outcomes}
    assert by_problem["kb/level1/1_Double"].status == "finished"
    assert by_problem["kb/level1/3_Half"].status == "finished"
    broken = by_problem["kb/level1/2_Broken"]
    assert broken.status == "not_started" and "this problem is broken" in broken.reason
    assert attempts(out / "kb-level1-1_Double") == 2 and attempts(out / "kb-level1-3_Half") == 2
    seed = (out / "seeds" / "kb-level1-1_Double.py").read_text()
    assert "class ModelNew(" in seed
    config = json.loads((out / "kb-level1-1_Double" / "config.json").read_text())
    assert config["campaign"]["problem"] == "kb/level1/1_Double"
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["iterations_per_problem"] == 2 and manifest["pending"] == []

    again = run_sweep(tmp_path / "sweep.toml", refs, out, budget, kernelbench_dir=str(kb), show_progress=False)
    assert [o.status for o in again] == ["finished", "not_started", "finished"]
    assert attempts(out / "kb-level1-1_Double") == 2, "a finished campaign is kept, not run again"

    column = run_column(out)
    outcomes = {o.problem_id: o for o in column.outcomes}
    assert outcomes["kb/level1/1_Double"].correct and outcomes["kb/level1/3_Half"].correct
    assert not outcomes["kb/level1/2_Broken"].correct, "KernelBench's denominator: the level's every problem"


def test_the_cli_refuses_a_sweep_without_problems_in_one_line(tmp_path):
    (tmp_path / "sweep.toml").write_text(CONFIG)
    result = subprocess.run([sys.executable, "-m", "stark.cli", "sweep", str(tmp_path / "sweep.toml")],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 2
    assert "--level N" in result.stderr + result.stdout


def test_campaigns_run_at_once_on_cpu_blocks_of_their_own_and_an_interrupt_leaves_them_resumable(tmp_path):
    """`--parallel 2`: two campaigns at a time in one process and one Ray; Ctrl-C stops every one of them saved,
    and the same command again finishes them with exactly their budget of attempts."""
    level1 = tmp_path / "kb" / "KernelBench" / "level1"
    level1.mkdir(parents=True)
    for index, factor in enumerate(("2.0", "0.5", "3.0"), 1):
        (level1 / f"{index}_Scale{index}.py").write_text(SCALE.format(factor=factor))
    (tmp_path / "sweep.toml").write_text(CONFIG.replace("trials = 2", "trials = 1").replace(
        "repeats = 3", "repeats = 200"))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "stark.cli", "sweep", str(tmp_path / "sweep.toml"), "--level", "1",
               "--kernelbench-dir", str(tmp_path / "kb"), "--iterations", "30", "--parallel", "2", "--out", str(out)]
    first = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    runs = [out / f"kb-level1-{i}_Scale{i}" for i in (1, 2, 3)]
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not all(evaluators_started(run) for run in runs[:2]):
        time.sleep(0.5)
    first.send_signal(signal.SIGINT)
    output = first.communicate(timeout=120)[0]
    assert first.returncode == 130, output
    assert "run the same command again" in output
    started = [run for run in runs if (run / "campaign.log").exists()]
    assert len(started) >= 2, output
    blocks = {next(e["first_cpu_block"] for e in log_events(run) if e["event"] == "evaluators") for run in runs[:2]}
    assert blocks == {0, 1}, "the two campaigns at once pin their evaluators to different CPU blocks"
    for run in runs[:2]:
        assert log_events(run)[-1]["event"] == "interrupted", run

    second = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert [attempts(run) for run in runs] == [30, 30, 30], "resumed campaigns make exactly their budget"
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["campaigns_at_once"] == 2 and manifest["pending"] == []
    assert [o["status"] for o in manifest["outcomes"]] == ["finished"] * 3


def evaluators_started(run_dir: Path) -> bool:
    try:
        return any(e["event"] == "evaluators" for e in log_events(run_dir))
    except (OSError, ValueError):
        return False
