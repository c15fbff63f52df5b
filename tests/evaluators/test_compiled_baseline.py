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
