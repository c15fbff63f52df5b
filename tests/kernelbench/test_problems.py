"""Every shipped problem is a valid KernelBench problem whose reference runs on its CPU shapes."""

import math

import pytest
import torch

from kernelbench.problem import ProblemRef, load_problem
from kernelbench.registry import builtin_problems

PROBLEMS = builtin_problems()


def test_enough_problems_per_level():
    levels = [ref.level for ref in PROBLEMS]
    assert levels.count(1) >= 20
    assert levels.count(2) >= 8


@pytest.mark.parametrize("ref", PROBLEMS, ids=lambda ref: ref.problem_id)
def test_reference_runs_on_cpu_shapes(ref):
    module = load_problem(ref)
    torch.manual_seed(0)
    model = module.Model(*module.get_init_inputs()).eval()
    inputs = module.get_inputs()
    with torch.no_grad():
        first = model(*inputs)
        again = model(*inputs)
    assert isinstance(first, torch.Tensor)
    if first.is_floating_point():
        assert torch.isfinite(first).all()
    assert torch.equal(first, again), "reference must be deterministic for verification to mean anything"


@pytest.mark.parametrize("ref", PROBLEMS, ids=lambda ref: ref.problem_id)
def test_gpu_shapes_are_larger_than_cpu_shapes(ref):
    module = load_problem(ProblemRef(ref.problem_id, ref.path, ref.level, "gpu"))
    for key, cpu_value in module.CPU_SHAPES.items():
        gpu_value = getattr(module, key)
        assert gpu_value >= cpu_value, key
    assert math.prod(getattr(module, k) for k in module.CPU_SHAPES) > math.prod(module.CPU_SHAPES.values())
