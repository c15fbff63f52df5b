"""The compile → verify → profile cascade as it runs inside a worker process."""

from __future__ import annotations

import random
import types
from collections.abc import Callable
from dataclasses import dataclass

import torch

from evaluators.compare import CandidateFailure, compare_outputs, flatten_outputs
from evaluators.config import EvalConfig, EvalRequest
from evaluators.poison import poison_cuda_cache, set_cpu_poisoning
from evaluators.records import FailureKind, ProfileReport, VerifyReport
from evaluators.timing import time_module
from kernelbench.problem import load_module, load_problem


@dataclass
class Loaded:
    """Everything the compile stage built; lives only inside the worker."""

    problem: types.ModuleType
    candidate: types.ModuleType
    reference_model: torch.nn.Module
    candidate_model: torch.nn.Module
    device: torch.device


def trial_seeds(config: EvalConfig) -> tuple[int, ...]:
    rng = random.Random(config.seed)
    return tuple(rng.randrange(2**31) for _ in range(config.trials))


def _to_device(values: list, device: torch.device) -> list:
    return [v.to(device) if isinstance(v, torch.Tensor) else v for v in values]


def _clone(values: list) -> list:
    return [v.clone() if isinstance(v, torch.Tensor) else v for v in values]


def make_inputs(problem: types.ModuleType, seed: int, device: torch.device) -> list:
    torch.manual_seed(seed)
    return _to_device(list(problem.get_inputs()), device)


def compile_stage(request: EvalRequest, candidate_path: str) -> Loaded:
    """Import the candidate (building any C++/Triton code it declares) and construct both models."""
    device = torch.device(request.config.backend)
    problem = load_problem(request.problem)
    try:
        candidate = load_module(candidate_path, prefix="stark_candidate")
    except Exception as exc:
        kind = FailureKind.BUILD_ERROR if "Error building extension" in str(exc) else FailureKind.IMPORT_ERROR
        raise CandidateFailure(kind, f"{type(exc).__name__}: {exc}") from exc
    model_new = getattr(candidate, "ModelNew", None)
    if not isinstance(model_new, type):
        raise CandidateFailure(FailureKind.NO_MODEL_NEW, "candidate defines no class ModelNew")
    torch.manual_seed(request.config.seed)
    init_inputs = list(problem.get_init_inputs())
    torch.manual_seed(request.config.seed)
    reference = problem.Model(*init_inputs).to(device).eval()
    try:
        torch.manual_seed(request.config.seed)
        candidate_model = model_new(*init_inputs)
        if isinstance(candidate_model, torch.nn.Module):
            candidate_model = candidate_model.to(device).eval()
    except Exception as exc:
        raise CandidateFailure(FailureKind.INIT_ERROR, f"ModelNew(...) raised {type(exc).__name__}: {exc}") from exc
    return Loaded(problem, candidate, reference, candidate_model, device)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def verify_stage(loaded: Loaded, config: EvalConfig) -> VerifyReport:
    seeds = trial_seeds(config)
    max_abs = max_rel = 0.0
    for trial, seed in enumerate(seeds):
        inputs = make_inputs(loaded.problem, seed, loaded.device)
        with torch.no_grad():
            expected = loaded.reference_model(*_clone(inputs))
            _synchronize(loaded.device)
            poison_cuda_cache(flatten_outputs(expected))
            set_cpu_poisoning(loaded.device.type == "cpu")
            try:
                actual = _call_candidate(loaded.candidate_model, _clone(inputs))
                _synchronize(loaded.device)
            finally:
                set_cpu_poisoning(False)
        try:
            closeness = compare_outputs(expected, actual, config.tolerance)
        except CandidateFailure as failure:
            raise CandidateFailure(failure.kind, f"trial {trial} (seed {seed}): {failure.message}") from None
        max_abs = max(max_abs, closeness.max_abs_error)
        max_rel = max(max_rel, closeness.max_rel_error)
    atol, rtol = config.tolerance(_first_dtype(expected))
    return VerifyReport(seeds, max_abs, max_rel, atol, rtol)


def _first_dtype(outputs: object) -> str:
    return str(flatten_outputs(outputs)[0].dtype).removeprefix("torch.")


def _call_candidate(model: Callable, inputs: list) -> object:
    try:
        return model(*inputs)
    except CandidateFailure:
        raise
    except Exception as exc:
        raise classify_exception(exc) from exc


def classify_exception(exc: BaseException) -> CandidateFailure:
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    if isinstance(exc, MemoryError) or "out of memory" in lowered or "can't allocate memory" in lowered:
        return CandidateFailure(FailureKind.OUT_OF_MEMORY, text)
    if "cuda error" in lowered or "illegal memory access" in lowered or type(exc).__name__ == "AcceleratorError":
        return CandidateFailure(FailureKind.CUDA_ERROR, text)
    return CandidateFailure(FailureKind.RUNTIME_ERROR, text)


def profile_stage(loaded: Loaded, config: EvalConfig) -> ProfileReport:
    rng = random.Random(config.seed + 1)
    input_sets = [make_inputs(loaded.problem, rng.randrange(2**31), loaded.device) for _ in range(config.input_sets)]

    def timed(fn: Callable):
        return time_module(fn, input_sets, config.warmup, config.repeats, loaded.device)

    try:
        candidate = timed(loaded.candidate_model)
    except Exception as exc:
        raise classify_exception(exc) from exc
    reference = timed(loaded.reference_model)
    compiled, note = None, "not requested"
    if config.compare_compile:
        try:
            compiled, note = timed(torch.compile(loaded.reference_model)), "torch.compile (inductor, default mode)"
        except Exception as exc:
            compiled, note = None, f"torch.compile failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return ProfileReport(candidate, reference, compiled, note, torch.get_num_threads(), len(input_sets))
