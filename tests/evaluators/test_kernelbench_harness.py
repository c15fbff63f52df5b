"""`--harness kernelbench` agrees with KernelBench's own correctness check on every verdict, and the default
harness differs from it only where the README says it does.

KernelBench's check is run from a vendored copy of its src/kernelbench/eval.py (tests/fixtures/kernelbench_eval.py)
on the CPU; problems are the KernelBench-layout files in tests/fixtures/kernelbench_layout."""

import importlib.util
from dataclasses import replace

import pytest
import torch

from evaluators.compare import compare_outputs
from evaluators.config import EvalConfig, EvalRequest
from kernelbench.problem import reference_as_candidate
from kernelbench.registry import resolve_problem
from tests.conftest import FAST, REPO

LAYOUT = REPO / "tests" / "fixtures" / "kernelbench_layout"
_spec = importlib.util.spec_from_file_location("kernelbench_eval", REPO / "tests" / "fixtures" / "kernelbench_eval.py")
kernelbench_eval = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kernelbench_eval)


def scale(expression: str) -> str:
    return ("import torch\nimport torch.nn as nn\n\n\nclass ModelNew(nn.Module):\n"
            f"    def forward(self, x):\n        return {expression}\n")


EVAL_MODE_BATCH_NORM = '''import torch
import torch.nn as nn


class ModelNew(nn.Module):
    """Normalizes with the running statistics (what eval mode does): right under stark's default, wrong in train mode."""

    def __init__(self, num_features: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features=num_features)

    def forward(self, x):
        return self.bn.weight[None, :, None, None] * x / torch.sqrt(torch.tensor(1.0 + self.bn.eps)) \\
            + self.bn.bias[None, :, None, None]
'''

CASES = [  # problem, candidate (None: the problem's own Model), KernelBench's verdict, stark default's verdict
    ("level1/3_Scale", None, True, True),
    ("level1/3_Scale", scale("x * 2.0005"), False, True),        # 2.5e-4 relative: fails 1e-4, passes stark's 1e-3
    ("level1/3_Scale", scale("x * 2.1"), False, False),
    ("level1/3_Scale", scale("(x * 2.0)[:, :128]"), False, False),
    ("level1/3_Scale", scale("x * 2.0 + 1e-5"), True, True),
    ("level1/4_BatchNormTrainMode", None, True, True),
    ("level1/4_BatchNormTrainMode", EVAL_MODE_BATCH_NORM, False, True),  # KernelBench keeps train mode
]


@pytest.fixture(autouse=True)
def no_cuda_synchronize(monkeypatch):
    if not torch.cuda.is_available():
        monkeypatch.setattr(torch.cuda, "synchronize", lambda *args, **kwargs: None)


def stark_verdict(worker, name: str, candidate: str, harness: str, backend: str = "cpu") -> bool:
    ref = resolve_problem(f"kb/{name}", kernelbench_dir=LAYOUT, shape_set="gpu")
    config = replace(FAST, harness=harness, profile=False, backend=backend)
    return worker.evaluate(EvalRequest(ref, candidate, config)).passed


@pytest.mark.parametrize("name, candidate, kernelbench_passes, stark_passes", CASES)
def test_verdicts_agree_with_kernelbench(worker, name, candidate, kernelbench_passes, stark_passes):
    problem_source = (LAYOUT / "KernelBench" / f"{name}.py").read_text()
    candidate = candidate or reference_as_candidate(problem_source)
    theirs = kernelbench_eval.kernelbench_verdict(problem_source, candidate)
    assert theirs.correctness is kernelbench_passes, theirs.metadata
    assert stark_verdict(worker, name, candidate, "kernelbench") is kernelbench_passes
    assert stark_verdict(worker, name, candidate, "stark") is stark_passes


@pytest.mark.gpu
@pytest.mark.parametrize("name, candidate, kernelbench_passes, stark_passes", CASES)
def test_verdicts_agree_with_kernelbench_on_gpu(worker, name, candidate, kernelbench_passes, stark_passes):
    problem_source = (LAYOUT / "KernelBench" / f"{name}.py").read_text()
    candidate = candidate or reference_as_candidate(problem_source)
    theirs = kernelbench_eval.kernelbench_verdict(problem_source, candidate, device="cuda")
    assert theirs.correctness is kernelbench_passes, theirs.metadata
    assert stark_verdict(worker, name, candidate, "kernelbench", backend="cuda") is kernelbench_passes
    assert stark_verdict(worker, name, candidate, "stark", backend="cuda") is stark_passes


@pytest.mark.gpu
def test_kernelbench_harness_on_gpu_flushes_l2_and_times_100_calls(worker):
    ref = resolve_problem("kb/level1/3_Scale", kernelbench_dir=LAYOUT, shape_set="gpu")
    config = replace(FAST, harness="kernelbench", backend="cuda")
    result = worker.evaluate(EvalRequest(ref, reference_as_candidate(open(ref.path).read()), config))
    assert result.passed, result.failure
    assert result.profile.statistic == "mean" and result.profile.candidate.runs == 100
    assert result.profile.l2_flushed
    assert 0.5 < result.speedup_vs_eager < 2.0, result.speedup_vs_eager


def test_the_kernelbench_protocol_replaces_starks_settings():
    protocol = EvalConfig(harness="kernelbench", trials=2, repeats=7, precision="fp16").protocol()
    assert (protocol.trials, protocol.warmup, protocol.repeats, protocol.second_shape_set) == (5, 3, 100, False)
    assert protocol.tolerance("float16") == (1e-2, 1e-2) and protocol.tolerance("float32") == (1e-2, 1e-2)
    assert EvalConfig(harness="kernelbench").protocol().tolerance("float32") == (1e-4, 1e-4)
    assert EvalConfig().protocol() == EvalConfig()
    with pytest.raises(ValueError, match="unknown harness"):
        EvalConfig(harness="other")


def test_rtol_scales_the_reference_by_default_and_the_candidate_under_kernelbench():
    want, got = torch.tensor([1000.0], dtype=torch.float64), torch.tensor([1000.20002], dtype=torch.float64)
    tolerance = lambda dtype: (0.0, 2e-4)  # noqa: E731
    with pytest.raises(Exception, match="outside"):
        compare_outputs([want], [got], tolerance)                        # 0.2001 > 2e-4 * 1000
    compare_outputs([want], [got], tolerance, relative_to_candidate=True)  # 0.20002 <= 2e-4 * 1000.20002


def test_kernelbench_harness_times_by_the_mean_of_100_calls(worker):
    ref = resolve_problem("kb/level1/3_Scale", kernelbench_dir=LAYOUT, shape_set="gpu")
    result = worker.evaluate(EvalRequest(ref, reference_as_candidate(open(ref.path).read()), replace(FAST, harness="kernelbench")))
    profile = result.profile
    assert result.passed and profile.statistic == "mean" and profile.candidate.runs == 100
    assert len(result.verify.trial_seeds) == 5 and result.verify.second_shape_set == ""
    assert result.speedup_vs_eager == pytest.approx(profile.reference.mean_us / profile.candidate.mean_us)
