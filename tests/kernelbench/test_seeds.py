"""Every shipped level-1 problem has a seed the offline mutator can tune, and every seed is correct as written
(a sweep starts from it)."""

from dataclasses import replace
from pathlib import Path

import pytest

from evaluators.config import EvalRequest
from kernelbench.registry import builtin_problems
from kernelbench.seeds import SEEDS_ROOT, seed_for
from stark.agents.offline import tunables
from tests.conftest import FAST

LEVEL1 = [ref for ref in builtin_problems() if ref.level == 1]


def test_every_level1_problem_has_a_seed_with_tunables():
    missing = [ref.problem_id for ref in LEVEL1 if seed_for(ref.problem_id) is None]
    assert not missing
    for ref in LEVEL1:
        found = tunables(seed_for(ref.problem_id).read_text())
        assert found, f"{ref.problem_id}: nothing for the offline mutator to tune"
        assert any(t.low is not None or isinstance(t.value, bool) or t.choices for t in found)


def test_seed_for_knows_only_shipped_problems():
    assert seed_for("kb/level1/19_ReLU") is None and seed_for("level9/none") is None
    assert seed_for("level1/relu") == SEEDS_ROOT / "level1" / "relu.py"


@pytest.mark.slow
@pytest.mark.parametrize("ref", LEVEL1, ids=lambda ref: ref.problem_id)
def test_every_seed_passes_as_written(worker, ref):
    source = Path(seed_for(ref.problem_id)).read_text()
    result = worker.evaluate(EvalRequest(ref, source, replace(FAST, profile=False)))
    assert result.passed, result.failure
