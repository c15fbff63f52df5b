"""The sandbox works wherever a checkout lives: under a 0700 directory, in /tmp, with spaces in the path."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluators.sandbox import bubblewrap_available
from tests.conftest import REPO

PACKAGES = ("stark", "evolve", "evaluators", "kernelbench")


def copy_checkout(target: Path) -> Path:
    target.mkdir(parents=True)
    for name in PACKAGES:
        shutil.copytree(REPO / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.mark.skipif(not bubblewrap_available(), reason="needs bubblewrap (.ci/setup installs it)")
def test_eval_from_a_checkout_under_a_private_directory_with_spaces(tmp_path):
    private = tmp_path / "private home"
    checkout = copy_checkout(private / "a b" / "stark")
    private.chmod(0o700)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    result = subprocess.run([sys.executable, "-m", "stark.cli", "eval", "level1/relu",
                             str(checkout / "kernelbench" / "candidates" / "relu_torch.py"), "--json",
                             "--no-compile-baseline"], cwd=checkout, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert '"passed": true' in result.stdout
    assert f'"executable": "{sys.executable}"' in result.stdout, "the runners use the venv's own interpreter"


def test_a_sandbox_that_cannot_start_is_one_line_and_exit_1(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "PYTHONPATH": str(REPO)}
    (tmp_path / "bwrap").write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    (tmp_path / "bwrap").chmod(0o755)
    code = ("import evaluators.sandbox as s; s.bubblewrap_available = lambda: True\n"
            "import sys; from stark.cli import app; sys.argv = ['stark', 'eval', 'level1/relu', "
            f"'{REPO / 'kernelbench' / 'candidates' / 'relu_torch.py'}']; app()")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "sandbox failed to start" in lines[0] and "Permission denied" in lines[0], lines
