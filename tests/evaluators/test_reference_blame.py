"""The problem's own failures are never charged to the candidate, and say what went wrong.

Problems here are small files in KernelBench's layout (tests/fixtures/kernelbench_layout), each reproducing a
case met in the real KernelBench: references that only work at their own batch size, an import of a package
this machine lacks, inputs made on the GPU, a model too large for the machine."""

import re
from dataclasses import replace

import pytest
import torch

from evaluators.config import EvalRequest
from evaluators.records import FailureKind
from kernelbench.problem import reference_as_candidate
from kernelbench.registry import resolve_problem
from tests.conftest import FAST, REPO

LAYOUT = REPO / "tests" / "fixtures" / "kernelbench_layout"


def problem(name: str):
    return resolve_problem(f"kb/{name}", kernelbench_dir=LAYOUT, shape_set="gpu")


def identity(ref) -> str:
    return reference_as_candidate(open(ref.path).read())


def evaluate(worker, name: str, candidate: str | None = None):
    ref = problem(name)
    return worker.evaluate(EvalRequest(ref, candidate or identity(ref), replace(FAST, memory_limit_gb=2)))


@pytest.mark.parametrize("name", ["level1/1_HingeLossAtOwnSize", "level1/2_StateSizedAtInit"])
def test_the_second_shape_set_is_skipped_with_a_note_when_the_reference_itself_fails_there(worker, name):
    result = evaluate(worker, name)
    assert result.passed, result.failure
    note = result.verify.second_shape_set
    assert note.startswith("skipped: the reference itself fails at batch_size=") and "RuntimeError" in note


def test_the_second_shape_set_still_runs_where_the_reference_works(worker):
    result = evaluate(worker, "level1/3_Scale")
    assert result.passed and result.verify.second_shape_set == "batch_size=17"
    hard_coded = identity(problem("level1/3_Scale")).replace("return x * 2.0", "return (x * 2.0).view(16, 256)")
    failed = evaluate(worker, "level1/3_Scale", hard_coded)
    assert not failed.passed and failed.failure.charged_to_candidate and "second shape set" in failed.failure.message


def test_a_problem_that_cannot_import_names_the_package_and_its_line(worker):
    result = evaluate(worker, "level3/1_NeedsAMissingPackage", "import torch\nclass ModelNew(torch.nn.Module):\n"
                                                                  "    def forward(self, x):\n        return x\n")
    failure = result.failure
    assert failure.kind is FailureKind.REFERENCE_ERROR and not failure.charged_to_candidate
    assert "No module named 'stark_test_missing_package'" in failure.message
    assert "1_NeedsAMissingPackage.py:3" in failure.message and "pip install stark_test_missing_package" in failure.message


@pytest.mark.skipif(torch.cuda.is_available(), reason="the inputs only fail where there is no GPU")
def test_inputs_made_on_a_missing_gpu_are_the_problems_failure(worker):
    failure = evaluate(worker, "level3/2_InputsOnTheGpu").failure
    assert failure.kind is FailureKind.REFERENCE_ERROR and not failure.charged_to_candidate
    assert "get_inputs()" in failure.message and "2_InputsOnTheGpu.py:" in failure.message and ".cuda()" in failure.message


def test_out_of_memory_building_the_reference_is_out_of_memory_and_not_the_candidates(worker):
    failure = evaluate(worker, "level3/3_ReferenceTooLarge", "import torch\nclass ModelNew(torch.nn.Module):\n"
                                                                "    def forward(self, x):\n        return x\n").failure
    assert failure.kind is FailureKind.OUT_OF_MEMORY and not failure.charged_to_candidate
    assert "reference" in failure.message and re.search(r"\d{10,} bytes", failure.message)


def test_a_candidate_out_of_memory_at_construction_is_out_of_memory_with_its_size(worker):
    greedy = identity(problem("level1/3_Scale")).replace(
        "class ModelNew(nn.Module):", "class ModelNew(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                                      "        self.waste = torch.empty(1 << 40)\n")
    failure = evaluate(worker, "level1/3_Scale", greedy).failure
    assert failure.kind is FailureKind.OUT_OF_MEMORY and failure.charged_to_candidate
    assert re.search(r"\d{10,} bytes", failure.message), failure.message


def test_a_bare_memory_error_names_the_limit(worker):
    greedy = identity(problem("level1/3_Scale")).replace(
        "class ModelNew(nn.Module):", "class ModelNew(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                                      "        raise MemoryError()\n")
    failure = evaluate(worker, "level1/3_Scale", greedy).failure
    assert failure.kind is FailureKind.OUT_OF_MEMORY and "memory limit" in failure.message, failure.message
