"""The CUDA backend: the judge's device-side clock, NaN-poisoned outputs, compiled Triton. Skipped without CUDA."""

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
    assert "device idle before each timed call" in result.profile.clock, result.profile.clock
    assert "inputs loaded by each runner" not in result.profile.clock, result.profile.clock   # written by the judge


def test_unwritten_output_fails_on_gpu(worker):
    result = worker.evaluate(make_request("level1/relu", "relu_unwritten.py", CUDA))
    assert result.failure.kind in (FailureKind.MISMATCH, FailureKind.NONFINITE)


def test_input_mutation_on_the_device_is_caught(worker):
    """The judge writes the inputs into the runner's device buffer and compares that buffer after the call (the
    runner's own copy to the device was never checked: only the host region it was copied from)."""
    result = worker.evaluate(make_request("level1/relu", "redteam/mutates_input.py", CUDA))
    assert result.failure is not None and result.failure.kind is FailureKind.INPUT_MUTATION, result.failure


def test_wrong_candidate_fails_in_verify_on_gpu(worker):
    result = worker.evaluate(make_request("level1/relu", "relu_wrong.py", CUDA))
    assert (result.failure.stage, result.failure.kind) == (Stage.VERIFY, FailureKind.MISMATCH)


def test_the_clock_stops_at_the_judges_own_device_copy(worker):
    """Outputs come over in device memory the judge maps (CUDA IPC), so the round trip subtracted is no longer a
    5 ms copy to the host, and identical code at KernelBench's GEMM size scores 1.0x with a narrow interval
    (the host copy's jitter gave 0.50-1.33 on an H100).  With the judge on a thread per core the eager reference
    had a heavy tail (1.02-1.44 on 2026-11-26); on one thread it passed (H100, 2026-11-27)."""
    ref = resolve_problem("level1/matmul_square", shape_set="gpu")
    config = dataclasses.replace(CUDA, compare_compile=False, repeats=30)
    result = worker.evaluate(EvalRequest(ref, reference_as_candidate(Path(ref.path).read_text()), config))
    assert result.passed, result.failure
    profile = result.profile
    assert profile.clock.startswith("device copy"), profile.clock
    assert profile.null_us < 2000, profile.null_us
    low, high = profile.speedup_ci
    assert low <= 1.0 <= high and high / low < 1.25, (low, high)


def test_work_finished_after_the_call_returned_does_not_count_on_gpu(worker):
    result = worker.evaluate(make_request("level1/relu", "relu_gpu_after_return.py", CUDA))
    assert result.failure is not None
    assert result.failure.kind in (FailureKind.MISMATCH, FailureKind.DEFERRED_WORK, FailureKind.NONFINITE)


def test_a_kernel_left_running_between_calls_is_caught_on_gpu(worker):
    """A thread of the candidate's keeps a kernel in flight on a side stream, so one runs on while the runner is
    stopped: the judge's idle probe sees the busy device before a timed call, and killing the candidate's runner
    frees it, so the candidate is blamed."""
    result = worker.evaluate(make_request("level1/relu", "relu_gpu_thread_keeps_busy.py", CUDA))
    assert result.failure is not None, result.profile
    assert result.failure.kind is FailureKind.DEFERRED_WORK, (result.failure, result.profile)
    assert "busy while its runner was stopped" in result.failure.message


def test_a_child_process_cannot_keep_the_gpu_busy(worker):
    """The same from a child process with a CUDA context of its own (its kernels run on while the process group is
    stopped): caught by the probe, or refused the device (on the H100 of 2026-11-27 the child's CUDA failed)."""
    result = worker.evaluate(make_request("level1/relu", "relu_gpu_kernel_left_running.py", CUDA))
    assert result.failure is not None, result.profile
    print("child candidate:", result.failure.kind, result.failure.message[-1500:])
    assert result.failure.kind in (FailureKind.DEFERRED_WORK, FailureKind.CUDA_ERROR), result.failure
