"""torch.compile's baseline is timed in its own rounds after the candidate's and the reference's, as many times."""

from dataclasses import replace

import pytest

from tests.conftest import FAST, make_request


@pytest.mark.slow
def test_the_compiled_baseline_is_timed_as_often_as_the_reference(worker):
    config = replace(FAST, compare_compile=True, repeats=5)
    result = worker.evaluate(make_request("level1/relu", "relu_torch.py", config))
    assert result.passed, result.failure
    profile = result.profile
    assert profile.compiled_note.startswith("torch.compile"), profile.compiled_note
    assert profile.compiled.runs == profile.reference.runs == profile.candidate.runs == 5
    assert result.speedup_vs_compile is not None and result.speedup_vs_compile > 0


# The reference's answer says whether anything was compiled in its process: it must never have been.
COMPILE_AWARE = '''
import torch
import torch.nn as nn
from torch._dynamo.utils import counters

size = 4096


class Model(nn.Module):
    def forward(self, x):
        return x + float(counters["stats"]["unique_graphs"])


def get_inputs():
    return [torch.randn(size)]


def get_init_inputs():
    return []
'''


@pytest.mark.slow
def test_the_compiled_baseline_runs_outside_the_eager_references_process(worker, tmp_path):
    """Compiling in the reference's process changed how fast its eager calls ran (allocator history, loaded
    runtimes): identical code measured 0.70x and 3.8x.  The eager reference must live as the candidate does."""
    from evaluators.config import EvalRequest
    from kernelbench.registry import resolve_problem

    problem = tmp_path / "level1" / "compile_aware.py"
    problem.parent.mkdir()
    problem.write_text(COMPILE_AWARE)
    config = replace(FAST, compare_compile=True, repeats=3)
    result = worker.evaluate(EvalRequest(resolve_problem(str(problem)), COMPILE_AWARE.replace("class Model(",
                                                                                           "class ModelNew("), config))
    assert result.passed, result.failure
    assert result.profile.compiled_note.startswith("torch.compile"), result.profile.compiled_note
    assert result.profile.compiled.runs == 3
