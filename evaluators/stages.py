"""The compile → verify → profile cascade as it runs inside a worker process."""

from __future__ import annotations

import errno
import random
import socket
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass

import torch

from evaluators import integrity
from evaluators.compare import CandidateFailure, Closeness, compare_outputs, flatten_outputs
from evaluators.config import EvalConfig, EvalRequest
from evaluators.poison import poison_cuda_cache, set_cpu_poisoning
from evaluators.records import FailureKind, ProfileReport, VerifyReport
from evaluators.timing import time_modules
from kernelbench.problem import load_module, load_problem


@dataclass
class Loaded:
    """Everything the compile stage built; lives only inside the worker."""

    problem: types.ModuleType
    candidate: types.ModuleType
    reference_model: torch.nn.Module
    candidate_model: torch.nn.Module
    device: torch.device
    protected: dict


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
    protected = integrity.protected_objects()
    try:
        candidate = load_module(candidate_path, prefix="stark_candidate")
    except Exception as exc:
        if "Error building extension" in str(exc):
            raise CandidateFailure(FailureKind.BUILD_ERROR, f"{type(exc).__name__}: {exc}") from exc
        classified = classify_exception(exc)
        if classified.kind is FailureKind.RUNTIME_ERROR:
            classified = CandidateFailure(FailureKind.IMPORT_ERROR, classified.message)
        raise classified from exc
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
    integrity.check_untampered(protected)
    return Loaded(problem, candidate, reference, candidate_model, device, protected)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def verify_stage(loaded: Loaded, config: EvalConfig) -> VerifyReport:
    """Seeded trials on the main shapes (later trials reuse the first trial's input buffers with new values,
    so a cache keyed on addresses is caught), then one trial on a second shape set.

    Within a trial the candidate runs first and the reference after, and no earlier trial's expected output
    is kept alive, so there is no reference output in this process for the candidate to find and return.
    """
    seeds = trial_seeds(config)
    worst = Closeness(0.0, 0.0)
    buffers, previous, dtype_name = None, None, "float32"
    output_specs = _output_specs(loaded, seeds[0] ^ 0x5EED)
    for trial, seed in enumerate(seeds):
        fresh = make_inputs(loaded.problem, seed, loaded.device)
        if buffers is not None and _same_layout(buffers, fresh):
            for old, new in zip(buffers, fresh):
                if isinstance(old, torch.Tensor):
                    old.copy_(new)
        else:
            buffers = _clone(fresh)
        expected, actual = _run_trial(loaded, config, fresh, buffers, output_specs, settle=trial == 0)
        try:
            integrity.check_not_cached(actual, expected, previous)
            closeness = compare_outputs(expected, actual, config.tolerance)
        except CandidateFailure as failure:
            raise CandidateFailure(failure.kind, f"trial {trial} (seed {seed}): {failure.message}") from None
        previous = (integrity.fingerprint(flatten_outputs(actual)),
                    integrity.fingerprint(flatten_outputs(expected, "reference output")))
        dtype_name = _first_dtype(expected)
        del expected, actual
        worst = Closeness(max(worst.max_abs_error, closeness.max_abs_error),
                          max(worst.max_rel_error, closeness.max_rel_error))
    second = _second_shape_trial(loaded, config, seeds[0] + 1) if config.second_shape_set else ""
    atol, rtol = config.tolerance(dtype_name)
    return VerifyReport(seeds, worst.max_abs_error, worst.max_rel_error, atol, rtol, second)


def _output_specs(loaded: Loaded, seed: int) -> list[tuple[torch.Size, torch.dtype]]:
    """Shapes and dtypes of the reference's outputs, from a probe on other inputs that is then dropped."""
    with torch.no_grad():
        probe = flatten_outputs(loaded.reference_model(*make_inputs(loaded.problem, seed, loaded.device)),
                                "reference output")
    return [(t.shape, t.dtype) for t in probe]


def _same_layout(old: list, new: list) -> bool:
    return len(old) == len(new) and all(
        (not isinstance(a, torch.Tensor) and a == b) or
        (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype)
        for a, b in zip(old, new))


def _run_trial(loaded: Loaded, config: EvalConfig, inputs: list, candidate_inputs: list,
               output_specs: list, settle: bool):
    """Candidate on `candidate_inputs` with every integrity check on the call, then the reference on its own
    copy of the inputs."""
    with torch.no_grad():
        reference_inputs = _clone(inputs)
        poison_cuda_cache(output_specs, loaded.device)
        before = integrity.fingerprint([v for v in candidate_inputs if isinstance(v, torch.Tensor)])
        threads = set(threading.enumerate())
        set_cpu_poisoning(loaded.device.type == "cpu")
        try:
            with integrity.ReferenceGuard(loaded.problem), integrity.ForbiddenOps(config.forbidden_ops):
                actual = _call_candidate(loaded.candidate_model, candidate_inputs)
        finally:
            set_cpu_poisoning(False)
        integrity.check_untampered(loaded.protected)
        outputs = flatten_outputs(actual)
        if settle:
            integrity.check_settled(outputs, threads, loaded.device)
        _synchronize(loaded.device)
        integrity.check_aliasing(outputs, candidate_inputs, [])
        integrity.check_inputs_unchanged(candidate_inputs, before)
        expected = loaded.reference_model(*reference_inputs)
        _synchronize(loaded.device)
        integrity.check_aliasing(outputs, reference_inputs, flatten_outputs(expected, "reference output"))
    return expected, actual


def _second_shape_trial(loaded: Loaded, config: EvalConfig, seed: int) -> str:
    """One more trial with the batch dimension changed, so kernels that hard-code the shape fail."""
    key = next((k for k in ("batch_size", "batch") if isinstance(getattr(loaded.problem, k, None), int)), None)
    if key is None:
        return ""
    original = getattr(loaded.problem, key)
    setattr(loaded.problem, key, original + 1)
    try:
        inputs = make_inputs(loaded.problem, seed, loaded.device)
        expected, actual = _run_trial(loaded, config, inputs, _clone(inputs), _output_specs(loaded, seed ^ 0x5EED),
                                      settle=False)
        compare_outputs(expected, actual, config.tolerance)
    except CandidateFailure as failure:
        raise CandidateFailure(failure.kind, f"second shape set ({key}={original + 1}): {failure.message}") from None
    finally:
        setattr(loaded.problem, key, original)
    return f"{key}={original + 1}"


def _first_dtype(outputs: object) -> str:
    return str(flatten_outputs(outputs)[0].dtype).removeprefix("torch.")


def _call_candidate(model: Callable, inputs: list) -> object:
    try:
        return model(*inputs)
    except CandidateFailure:
        raise
    except Exception as exc:
        raise classify_exception(exc) from exc


SANDBOX_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH,
                  errno.EAGAIN, errno.EFBIG, errno.ECONNREFUSED}


def classify_exception(exc: BaseException) -> CandidateFailure:
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    if isinstance(exc, socket.gaierror) or (isinstance(exc, OSError) and exc.errno in SANDBOX_ERRNOS):
        return CandidateFailure(FailureKind.SANDBOX_VIOLATION, f"blocked by the sandbox: {text}")
    if isinstance(exc, MemoryError) or "out of memory" in lowered or "can't allocate memory" in lowered:
        return CandidateFailure(FailureKind.OUT_OF_MEMORY, text)
    if "cuda error" in lowered or "illegal memory access" in lowered or type(exc).__name__ == "AcceleratorError":
        return CandidateFailure(FailureKind.CUDA_ERROR, text)
    return CandidateFailure(FailureKind.RUNTIME_ERROR, text)


def profile_stage(loaded: Loaded, config: EvalConfig) -> ProfileReport:
    rng = random.Random(config.seed + 1)
    input_sets = [make_inputs(loaded.problem, rng.randrange(2**31), loaded.device) for _ in range(config.input_sets)]
    modules: list[Callable] = [loaded.candidate_model, loaded.reference_model]
    note = "not requested"
    if config.compare_compile:
        compiled = torch.compile(loaded.reference_model)
        try:
            with torch.no_grad():
                compiled(*input_sets[0])
            modules.append(compiled)
            note = "torch.compile (inductor, default mode)"
        except Exception as exc:  # noqa: BLE001 - the baseline failing is reported, not fatal
            note = f"torch.compile failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    try:
        stats = time_modules(modules, input_sets, config.warmup, config.repeats, loaded.device)
    except CandidateFailure:
        raise
    except Exception as exc:
        raise classify_exception(exc) from exc
    integrity.check_untampered(loaded.protected, include_torch=False)
    compiled_stats = stats[2] if len(stats) > 2 else None
    return ProfileReport(stats[0], stats[1], compiled_stats, note, torch.get_num_threads(), len(input_sets))
