"""Every CLI input is checked before anything starts or is created, and a start that fails leaves nothing in
the way of a corrected rerun."""

import json

import pytest

from tests.conftest import BUNDLED
from tests.faults.harness import run_cli

pytestmark = pytest.mark.slow
CONFIG = "runs/scratchpad_offline.toml"


def one_line(code: int, err: str, fragment: str) -> None:
    lines = [line for line in err.splitlines() if "INFO worker.py" not in line]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], err


@pytest.mark.parametrize("args,fragment", [
    (["run", CONFIG, "--set", "budget.iterations=-1"], "iterations must be 0 (no limit) or positive"),
    (["run", CONFIG, "--set", "pipeline.evaluators=0"], "evaluators must be at least 1"),
    (["run", CONFIG, "--set", "campaign.problem=\"level1/no_such_problem\""], "unknown problem 'level1/no_such_problem'"),
    (["run", CONFIG, "--set", "agents.coder.llm.timeout_s=0"], "timeout_s and call_deadline_s must be positive"),
    (["resume", "{runs}/nowhere", "--more", "-5"], "--more must be 0 or positive"),
    (["eval", "level1/relu", str(BUNDLED / "relu_torch.py"), "--trials", "0"], "trials must be at least 1"),
    (["serve", "{runs}", "--port", "80000"], "--port must be between 1 and 65535"),
])
def test_bad_input_is_one_line_and_creates_nothing(tmp_path, args, fragment):
    runs = tmp_path / "runs"
    runs.mkdir()
    args = [a.replace("{runs}", str(runs)) for a in args]
    if args[0] == "run":
        args += ["--runs-root", str(runs)]
    code, _, err = run_cli(*args, timeout=120)
    one_line(code, err, fragment)
    assert list(runs.iterdir()) == []


def test_a_start_that_fails_is_recorded_and_a_rerun_reuses_the_directory(tmp_path):
    broken = tmp_path / "broken_seed.py"
    broken.write_text("def schedule(graph):\n    raise RuntimeError('boom')\n\n\ndef evict(candidates, step):\n"
                      "    return candidates[0].index\n")
    runs = tmp_path / "runs"
    args = ["run", CONFIG, "--runs-root", str(runs), "--no-progress", "--set", f"campaign.seed_program=\"{broken}\"",
            "--set", "budget.iterations=2"]
    code, _, err = run_cli(*args, timeout=300)
    one_line(code, err, "seed program fails")
    run_dir = runs / "scratchpad-offline"
    code, out, _ = run_cli("status", str(run_dir), "--json", timeout=60)
    assert code == 0 and json.loads(out)["status"] == "failed"
    events = [json.loads(line) for line in (run_dir / "campaign.log").read_text().splitlines()]
    assert events[-1]["event"] == "failed" and "seed program fails" in events[-1]["reason"]
    code, _, err = run_cli("run", CONFIG, "--runs-root", str(runs), "--no-progress", "--set", "budget.iterations=1",
                           timeout=300)
    assert code == 0, err
    code, out, _ = run_cli("status", str(run_dir), "--json", timeout=60)
    assert json.loads(out)["status"] == "finished" and json.loads(out)["attempts"] == 1
