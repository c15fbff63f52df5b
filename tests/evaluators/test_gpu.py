"""The CUDA backend: events timing, NaN-poisoned caching allocator, compiled Triton. Skipped without CUDA."""

import dataclasses
from pathlib import Path

import pytest

from evaluators.config import EvalRequest
from evaluators.records import FailureKind, Stage
from kernelbench.problem import reference_as_candidate
from kernelbench.registry import resolve_problem
from tests.conftest import FAST, make_request

pytestmark = pytest.mark.gpu
CUDA = dataclasses.replace(FAST, backend="cuda", repeats=20, compare_compile=True)


def test_reference_as_candidate_passes_on_gpu_shapes(worker):
    """KernelBench's own sizes (4096 x 4096 fp32).  ReLU's (two 6.4 GB tensors through host shared memory)
    outlast a unit test's verify timeout."""
    ref = resolve_problem("level1/matmul_square", shape_set="gpu")
    result = worker.evaluate(EvalRequest(ref, reference_as_candidate(Path(ref.path).read_text()), CUDA))
    assert result.passed, result.failure
    assert "gpu" in result.environment
    assert result.profile.compiled is not None


def test_compiled_triton_candidate_passes(worker):
    result = worker.evaluate(make_request("level1/relu", "relu_triton.py", CUDA))
    assert result.passed, result.failure


def test_unwritten_output_fails_on_gpu(worker):
    result = worker.evaluate(make_request("level1/relu", "relu_unwritten.py", CUDA))
    assert result.failure.kind in (FailureKind.MISMATCH, FailureKind.NONFINITE)


def test_wrong_candidate_fails_in_verify_on_gpu(worker):
    result = worker.evaluate(make_request("level1/relu", "relu_wrong.py", CUDA))
    assert (result.failure.stage, result.failure.kind) == (Stage.VERIFY, FailureKind.MISMATCH)
