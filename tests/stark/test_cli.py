"""`stark eval` and `stark problems` as a user runs them: a real subprocess, real exit codes."""

import json
import subprocess
import sys

import pytest

from tests.conftest import BUNDLED, CANDIDATES, REPO

FAST_FLAGS = ["--trials", "2", "--repeats", "3", "--threads", "1", "--no-compile-baseline"]


def stark(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stark.cli", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)


def test_problems_lists_both_levels():
    run = stark("problems")
    assert run.returncode == 0
    assert "level1/matmul_square" in run.stdout and "level2/attention" in run.stdout


def test_eval_json_for_a_passing_candidate():
    run = stark("eval", "level1/relu", str(BUNDLED / "relu_torch.py"), "--json", *FAST_FLAGS)
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["passed"] and record["failure"] is None
    assert [s["stage"] for s in record["stages"]] == ["compile", "verify", "profile"]
    assert record["speedup_vs_eager"] > 0


def test_eval_table_for_a_failing_candidate_names_stage_and_kind():
    run = stark("eval", "level1/relu", str(CANDIDATES / "relu_wrong_shape.py"), *FAST_FLAGS)
    assert run.returncode == 1
    assert "FAIL  verify/shape_mismatch" in run.stdout
    assert "expected (16, 16384)" in run.stdout


def test_a_problem_that_cannot_load_is_exit_2_and_says_it_is_not_the_candidate():
    layout = REPO / "tests" / "fixtures" / "kernelbench_layout"
    run = stark("eval", "kb/level3/1_NeedsAMissingPackage", str(BUNDLED / "relu_torch.py"), "--kernelbench-dir",
                str(layout), *FAST_FLAGS)
    assert run.returncode == 2, run.stdout + run.stderr
    text = " ".join(run.stdout.split())
    assert "compile/reference_error (the problem's reference failed, not the candidate)" in text
    assert "pip install stark_test_missing_package" in text


def test_candidate_without_model_new_is_one_clear_line():
    run = stark("eval", "level1/relu", str(CANDIDATES / "no_model_new.py"), "--json", *FAST_FLAGS)
    assert run.returncode == 1
    failure = json.loads(run.stdout)["failure"]
    assert failure["kind"] == "no_model_new" and failure["message"] == "candidate defines no class ModelNew"


@pytest.mark.parametrize("args,message", [
    (["level1/relu", "missing_candidate.py"], "error: candidate file not found: missing_candidate.py"),
    (["level1/relu", str(BUNDLED / "relu_torch.py"), "--backend", "tpu"], "error: unknown backend 'tpu'"),
    (["level9/nothing", str(BUNDLED / "relu_torch.py")], "error: unknown problem 'level9/nothing'"),
    (["no/such/problem.py", str(BUNDLED / "relu_torch.py")], "error: problem file not found: no/such/problem.py"),
    (["level1/relu", str(BUNDLED / "relu_torch.py"), "--kernelbench-dir", "/nonexistent"],
     "error: KernelBench checkout not found"),
])
def test_usage_errors_are_one_line_with_status_2(args, message):
    run = stark("eval", *args)
    assert run.returncode == 2
    assert run.stderr.strip().startswith(message)
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_readme_demo_cpp_openmp_matmul(tmp_path):
    run = stark("eval", "level1/matmul_square", str(BUNDLED / "matmul_square_openmp.py"), "--json",
                "--build-cache", str(tmp_path), *FAST_FLAGS)
    assert run.returncode == 0, run.stdout + run.stderr
    record = json.loads(run.stdout)
    assert record["passed"] and record["verify"]["max_abs_error"] < 1e-3
