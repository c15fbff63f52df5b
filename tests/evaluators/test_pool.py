"""Candidates of every kind through the real Ray evaluator pool: each verdict lands in the right stage."""

import dataclasses
import os

import pytest

from evaluators.config import StageTimeouts
from evaluators.records import FailureKind, Stage
from tests.conftest import FAST, make_request

TIMEOUT = 300

BAD_CANDIDATES = [
    ("relu_wrong.py", Stage.VERIFY, FailureKind.MISMATCH),
    ("relu_nan.py", Stage.VERIFY, FailureKind.NONFINITE),
    ("relu_wrong_shape.py", Stage.VERIFY, FailureKind.SHAPE_MISMATCH),
    ("relu_unwritten.py", Stage.VERIFY, (FailureKind.MISMATCH, FailureKind.NONFINITE)),   # torch.empty's bytes
    ("returns_none.py", Stage.VERIFY, FailureKind.OUTPUT_STRUCTURE),
    ("segfault.py", Stage.VERIFY, FailureKind.CRASH),
    ("exits.py", Stage.VERIFY, FailureKind.CRASH),
    ("hang.py", Stage.VERIFY, FailureKind.TIMEOUT),
    ("memory_hog.py", Stage.VERIFY, FailureKind.OUT_OF_MEMORY),
    ("memory_hog_python.py", Stage.VERIFY, FailureKind.OUT_OF_MEMORY),
    ("no_model_new.py", Stage.COMPILE, FailureKind.NO_MODEL_NEW),
    ("syntax_error.py", Stage.COMPILE, FailureKind.IMPORT_ERROR),
    ("init_error.py", Stage.COMPILE, FailureKind.INIT_ERROR),
]

SHORT = dataclasses.replace(FAST, timeouts=StageTimeouts(compile=60, verify=30, profile=30))
HANG = dataclasses.replace(SHORT, timeouts=StageTimeouts(compile=60, verify=4, profile=30))


def config_for(candidate: str):
    return HANG if candidate == "hang.py" else SHORT


def assert_pool_still_serves(pool):
    result = pool.evaluate(make_request("level1/relu", "relu_torch.py"), timeout=TIMEOUT)
    assert result.passed, result.failure


@pytest.mark.parametrize("candidate,stage,kind", BAD_CANDIDATES, ids=[c[0] for c in BAD_CANDIDATES])
def test_bad_candidate_fails_in_right_stage_and_pool_survives(pool, candidate, stage, kind):
    result = pool.evaluate(make_request("level1/relu", candidate, config_for(candidate)), timeout=TIMEOUT)
    assert not result.passed
    assert result.failure.stage == stage and result.failure.kind in (kind if isinstance(kind, tuple) else (kind,)), \
        result.failure
    assert [s.stage for s in result.stages][-1] == stage and not result.stages[-1].ok
    assert result.profile is None
    assert_pool_still_serves(pool)


def test_failure_carries_captured_output(pool):
    result = pool.evaluate(make_request("level1/relu", "segfault.py", SHORT), timeout=TIMEOUT)
    assert "Segmentation fault" in result.failure.output_tail
    assert "SIGSEGV" in result.failure.message
    printed = pool.evaluate(make_request("level1/relu", "returns_none.py", SHORT), timeout=TIMEOUT)
    assert "forgot to return" in printed.failure.output_tail


def test_hang_is_killed_near_its_deadline(pool):
    result = pool.evaluate(make_request("level1/relu", "hang.py", HANG), timeout=TIMEOUT)
    verify = result.stages[-1]
    assert verify.stage is Stage.VERIFY and 4 <= verify.seconds < 14
    assert "exceeded 4 s" in result.failure.message


def test_correct_candidate_passes_with_recorded_seeds_and_timings(pool):
    result = pool.evaluate(make_request("level1/relu", "relu_torch.py"), timeout=TIMEOUT)
    assert result.passed
    assert [s.stage for s in result.stages] == [Stage.COMPILE, Stage.VERIFY, Stage.PROFILE]
    assert len(result.verify.trial_seeds) == FAST.trials
    assert result.verify.max_abs_error == 0.0
    profile = result.profile
    assert profile.candidate.runs == FAST.repeats and profile.candidate.median_us > 0
    assert profile.speedup_vs_eager == pytest.approx(profile.reference.median_us / profile.candidate.median_us)
    assert result.environment["torch"].startswith("2.")


LEAVES_A_PATCH = """
import torch, torch.nn as nn
torch.stark_marker = "left by an earlier job"
_original = torch.relu
torch.relu = lambda x: torch.zeros_like(x)  # a later candidate calling torch.relu would pass on zeros
class ModelNew(nn.Module):
    def forward(self, x):
        return _original(x)
"""

TRUSTS_THE_PATCH = """
import torch, torch.nn as nn
class ModelNew(nn.Module):
    def forward(self, x):
        if hasattr(torch, "stark_marker"):
            return torch.relu(x)          # zeros, if the patch had survived
        return x.clamp_min(0)
"""


def test_no_state_survives_from_one_job_to_the_next(pool):
    """Every job gets fresh runner processes forked from a zygote that never ran candidate code."""
    request = make_request("level1/relu", "relu_torch.py", SHORT)
    for _, result in pool.map([dataclasses.replace(request, candidate_source=LEAVES_A_PATCH)] * 4, timeout=TIMEOUT):
        assert result.failure is None or result.failure.kind is FailureKind.TAMPERING
    zygotes = set(pool.worker_pids())
    for _, result in pool.map([dataclasses.replace(request, candidate_source=TRUSTS_THE_PATCH)] * 4, timeout=TIMEOUT):
        assert result.passed, result.failure
    assert set(pool.worker_pids()) == zygotes, "the zygotes themselves are reused"


def test_map_returns_every_index_once(pool):
    requests = [make_request("level1/relu", name, SHORT) for name in ("relu_torch.py", "relu_wrong.py", "segfault.py",
                                                                       "relu_torch.py", "no_model_new.py")]
    results = dict(pool.map(requests, timeout=TIMEOUT))
    assert sorted(results) == [0, 1, 2, 3, 4]
    assert [r.passed for _, r in sorted(results.items())] == [True, False, False, True, False]


def test_triton_candidate_passes_in_interpreter_mode(pool):
    result = pool.evaluate(make_request("level1/relu", "relu_triton.py"), timeout=TIMEOUT)
    assert result.passed, result.failure


@pytest.mark.slow
def test_cpp_candidate_builds_passes_and_reuses_its_build(pool, build_cache):
    request = make_request("level2/gemm_bias_relu", "gemm_bias_relu_cpp.py", build_cache=build_cache)
    first = pool.evaluate(request, timeout=TIMEOUT)
    assert first.passed, first.failure
    entries = list((build_cache / "judged").iterdir())
    assert entries and all(e.stat().st_uid == os.geteuid() for e in entries), "the judge, not a candidate, installs builds"
    second = pool.evaluate(request, timeout=TIMEOUT)
    assert second.passed
    assert second.stages[0].seconds < first.stages[0].seconds / 3


@pytest.mark.slow
def test_cpp_build_is_cached_per_extension_source_not_per_file(pool, build_cache):
    """Two candidates that differ only in Python share one compiled extension."""
    first = make_request("level2/gemm_bias_relu", "gemm_bias_relu_cpp.py", build_cache=build_cache)
    pool.evaluate(first, timeout=TIMEOUT)
    variant = dataclasses.replace(first, candidate_source=first.candidate_source + "\nUNUSED_TUNABLE = 3\n")
    result = pool.evaluate(variant, timeout=TIMEOUT)
    assert result.passed and result.stages[0].seconds < 3.0
    builds = [d for d in (build_cache / "judged").iterdir() if (d / "stark_test_gemm_bias_relu.so").exists()]
    assert len(builds) == 1


@pytest.mark.slow
def test_a_tampered_build_is_rebuilt_not_loaded(pool, build_cache):
    """The cache checks each build against the hash it recorded; a changed file is removed and rebuilt."""
    request = make_request("level2/gemm_bias_relu", "gemm_bias_relu_cpp.py", build_cache=build_cache)
    assert pool.evaluate(request, timeout=TIMEOUT).passed
    (built,) = [d / "stark_test_gemm_bias_relu.so" for d in (build_cache / "judged").iterdir()
                if (d / "stark_test_gemm_bias_relu.so").exists()]
    built.chmod(0o644)
    built.write_bytes(b"not an extension any more")
    result = pool.evaluate(request, timeout=TIMEOUT)
    assert result.passed, result.failure
    assert built.read_bytes()[:4] == b"\x7fELF"


@pytest.mark.slow
def test_cpp_build_error_is_reported_with_compiler_output(pool, build_cache):
    result = pool.evaluate(make_request("level1/relu", "relu_cpp_broken.py", build_cache=build_cache), timeout=TIMEOUT)
    assert (result.failure.stage, result.failure.kind) == (Stage.COMPILE, FailureKind.BUILD_ERROR)
    assert "this_method_does_not_exist" in result.failure.message + result.failure.output_tail
