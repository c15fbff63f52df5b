"""Poisoned CPU allocations: memory a kernel never writes holds values no correct output has."""

import pytest
import torch

from evaluators.poison import set_cpu_poisoning


@pytest.fixture
def poisoned():
    assert set_cpu_poisoning(True)
    yield
    set_cpu_poisoning(False)


@pytest.mark.parametrize("numel", [16, 4096, 262_144, 4_000_000])
def test_fresh_float32_memory_is_huge(poisoned, numel):
    fresh = torch.empty(numel)
    assert (fresh.abs() > 1e38).all()


def test_fresh_half_memory_is_nan(poisoned):
    assert torch.isnan(torch.empty(10_000, dtype=torch.float16)).all()


def test_freed_and_reused_memory_is_poisoned_again(poisoned):
    answer = torch.arange(100_000, dtype=torch.float32)
    del answer
    again = torch.empty(100_000)
    assert not torch.equal(again, torch.arange(100_000, dtype=torch.float32))
    assert (again.abs() > 1e38).all()

