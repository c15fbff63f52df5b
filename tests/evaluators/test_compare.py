"""Output comparison: each way of being wrong has its own failure kind; tolerances follow the dtype."""

import pytest
import torch

from evaluators.compare import CandidateFailure, all_finite, bitwise_equal, compare_outputs
from evaluators.config import EvalConfig
from evaluators.records import FailureKind

TOL = EvalConfig().tolerance


def kind_of(expected, actual) -> FailureKind:
    with pytest.raises(CandidateFailure) as info:
        compare_outputs(expected, actual, TOL)
    return info.value.kind


def test_identical_outputs_pass_with_zero_error():
    x = torch.randn(4, 5)
    closeness = compare_outputs(x, x.clone(), TOL)
    assert closeness.max_abs_error == 0.0


def test_the_same_bits_short_cut_keeps_every_verdict():
    """Bitwise-equal outputs skip the measuring; NaNs in both still fail, and values equal but not bit for bit
    (-0.0 and 0.0) or dtypes and shapes that differ take the full path."""
    x = torch.randn(64, 33)
    x[0, 0] = float("nan")
    assert kind_of(x, x.clone()) is FailureKind.NONFINITE
    zeros = torch.zeros(8)
    assert compare_outputs(zeros, -zeros, TOL).max_abs_error == 0.0
    assert kind_of(torch.zeros(8), torch.zeros(8, dtype=torch.float64)) is FailureKind.DTYPE_MISMATCH
    assert kind_of(torch.zeros(8), torch.zeros(2, 4)) is FailureKind.SHAPE_MISMATCH
    assert kind_of(torch.zeros(8, dtype=torch.int32), torch.zeros(2, dtype=torch.int64)) is FailureKind.SHAPE_MISMATCH


def test_float32_within_tolerance_passes_and_reports_error():
    x = torch.ones(10)
    closeness = compare_outputs(x, x + 5e-4, TOL)
    assert closeness.max_abs_error == pytest.approx(5e-4, rel=1e-3)


def test_float32_outside_tolerance_is_mismatch():
    x = torch.ones(10)
    assert kind_of(x, x + 3e-3) is FailureKind.MISMATCH


def test_half_precision_gets_looser_tolerance():
    x = torch.ones(10, dtype=torch.float16)
    compare_outputs(x, x + 0.005, TOL)
    assert kind_of(x, x + 0.05) is FailureKind.MISMATCH


def test_integer_outputs_must_match_exactly():
    x = torch.arange(10)
    assert kind_of(x, x + 1) is FailureKind.MISMATCH


def test_nan_or_inf_never_pass_even_where_reference_is_nan():
    x = torch.ones(3)
    assert kind_of(x, torch.tensor([1.0, float("nan"), 1.0])) is FailureKind.NONFINITE
    assert kind_of(x, torch.tensor([1.0, float("inf"), 1.0])) is FailureKind.NONFINITE
    nan = torch.tensor([float("nan")])
    assert kind_of(nan, nan.clone()) is FailureKind.NONFINITE


def test_shape_dtype_and_structure_failures():
    x = torch.ones(2, 3)
    assert kind_of(x, torch.ones(3, 2)) is FailureKind.SHAPE_MISMATCH
    assert kind_of(x, torch.ones(2, 3, dtype=torch.float64)) is FailureKind.DTYPE_MISMATCH
    assert kind_of(x, None) is FailureKind.OUTPUT_STRUCTURE
    assert kind_of((x, x), (x,)) is FailureKind.OUTPUT_STRUCTURE


def test_tuple_outputs_compare_elementwise():
    a, b = torch.randn(3), torch.randn(4)
    compare_outputs((a, [b]), (a.clone(), b.clone()), TOL)
    assert kind_of((a, b), (a, b * 2 + 1)) is FailureKind.MISMATCH


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64])
def test_all_finite_sees_any_nan_or_inf(dtype):
    values = torch.linspace(-3, 3, 1001).to(dtype)
    assert all_finite(values)
    for bad in (float("nan"), float("inf"), float("-inf")):
        for position in (0, 500, 1000):
            spoiled = values.clone()
            spoiled[position] = bad
            assert not all_finite(spoiled), (bad, position)
    both = values.clone()
    both[3], both[7] = float("inf"), float("-inf")
    assert not all_finite(both)


def test_all_finite_when_the_sum_itself_overflows():
    huge = torch.full((4,), torch.finfo(torch.float64).max, dtype=torch.float64)
    assert all_finite(huge)             # the double sum is Inf, every value is finite
    assert all_finite(torch.empty(0))


def test_bitwise_equal_compares_bits_at_any_size_and_alignment():
    x = torch.randn(1000)
    assert bitwise_equal(x, x.clone())
    assert not bitwise_equal(torch.tensor([0.0]), torch.tensor([-0.0]))      # equal values, different bits
    nan_a = torch.tensor([float("nan")])
    nan_b = nan_a.view(torch.int32).add(1).view(torch.float32)                 # another NaN payload
    assert bitwise_equal(nan_a, nan_a.clone()) and not bitwise_equal(nan_a, nan_b)
    raw = torch.arange(64, dtype=torch.uint8)
    assert bitwise_equal(raw[1:17], raw.clone()[1:17])                          # 16 bytes at an odd offset
    changed = raw.clone()
    changed[16] = 0
    assert not bitwise_equal(raw[1:17], changed[1:17])
    assert bitwise_equal(raw[:3], raw.clone()[:3]) and not bitwise_equal(raw[:3], raw[:4])
