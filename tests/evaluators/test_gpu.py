"""The CUDA backend: events timing, NaN-poisoned caching allocator, compiled Triton. Skipped without CUDA."""

import dataclasses

import pytest

from evaluators.records import FailureKind, Stage
from tests.conftest import FAST, make_request

pytestmark = pytest.mark.gpu
CUDA = dataclasses.replace(FAST, backend="cuda", repeats=20, compare_compile=True)


def test_torch_candidate_passes_on_gpu_shapes(worker):
    request = make_request("level1/relu", "relu_torch.py", CUDA)
    request = dataclasses.replace(request, problem=dataclasses.replace(request.problem, shape_set="gpu"))
    result = worker.evaluate(request)
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
