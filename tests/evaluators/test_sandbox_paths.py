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


@pytest.fixture
def open_dir():
    """A directory every user can reach (pytest's own temporary root is 0700)."""
    import tempfile

    path = Path(tempfile.mkdtemp(dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreachable_part_names_the_first_directory_closed_to_other_users(open_dir):
    from evaluators.sandbox import unreachable_part

    closed = open_dir / "closed"
    (closed / "inner").mkdir(parents=True)
    closed.chmod(0o700)
    assert unreachable_part(closed / "inner") == str(closed)
    closed.chmod(0o711)
    assert unreachable_part(closed / "inner") is None


def test_without_bubblewrap_jobs_move_out_of_a_closed_scratch_and_a_closed_cache_is_one_line(open_dir, monkeypatch):
    """Without bubblewrap (the GPU machines) the runners reach jobs and caches by host path under their own
    uids: pytest's 0700 temporary root made every runner fail to open its log."""
    from evaluators import judge as judge_module
    from evaluators.config import EvalConfig
    from evaluators.sandbox import SandboxSpec
    from evaluators.zygote_client import EvaluatorError

    monkeypatch.setattr(judge_module, "mounts_inside", lambda spec: False)
    monkeypatch.setattr(judge_module, "drops_privileges", lambda: True)
    closed, cache = open_dir / "closed", open_dir / "cache"
    closed.mkdir()
    cache.mkdir()
    closed.chmod(0o700)
    spec = SandboxSpec.for_config(EvalConfig())
    assert judge_module.Judge(closed)._reachable_scratch(spec, cache) == Path("/tmp")
    with pytest.raises(EvaluatorError, match="unreachable for the sandbox's runners"):
        judge_module.Judge(cache)._reachable_scratch(spec, closed / "build")
    assert judge_module.Judge(cache)._reachable_scratch(spec, cache) == cache


def test_cuda_runners_open_their_context_before_the_filter_and_the_builder_never():
    """On an H200 the CUDA driver's first initialization failed under the seccomp filter (Error 304) and
    worked when made before it (benchmarks/gpu_check.sh, README "On a GPU")."""
    from dataclasses import replace

    from evaluators import judge as judge_module
    from evaluators.confinement import BUILDER_UID, CANDIDATE_UID, Confinement
    from tests.conftest import make_request

    judge = judge_module.Judge()
    request = make_request("level1/relu", "relu_torch.py")
    cuda = replace(request, config=replace(request.config, backend="cuda"))
    assert Confinement.from_dict(judge._confinement(cuda, CANDIDATE_UID, False)).open_cuda
    assert not Confinement.from_dict(judge._confinement(cuda, BUILDER_UID, True)).open_cuda
    assert not Confinement.from_dict(judge._confinement(request, CANDIDATE_UID, False)).open_cuda
