"""Checks that catch a candidate winning by cheating rather than by computing.

Each check raises CandidateFailure with its own kind.  They run inside the worker, next to the candidate,
so a determined candidate can still defeat some of them (see the sandbox notes in the README); they are
aimed at the cheats published for generated kernels: mutating or aliasing inputs, handing back the
reference's own output, caching results across calls, leaving work running after returning, calling the
reference or a library op the problem asks to replace, and patching the timer or the checker.
"""

from __future__ import annotations

import threading
import time
import types
from collections.abc import Iterable, Sequence

import torch
from torch.overrides import TorchFunctionMode, resolve_name

from evaluators.compare import CandidateFailure, flatten_outputs
from evaluators.records import FailureKind

SETTLE_SECONDS = 0.1


def _tensors(values: Iterable) -> list[torch.Tensor]:
    return [v for v in values if isinstance(v, torch.Tensor)]


def _storages(tensors: Iterable[torch.Tensor]) -> set[int]:
    return {t.untyped_storage().data_ptr() for t in tensors if t.numel()}


def fingerprint(tensors: Sequence[torch.Tensor]) -> list[bytes]:
    """Exact bytes, NaN patterns included, so 'unchanged' means bit-for-bit unchanged."""
    return [t.detach().to("cpu").contiguous().view(-1).view(torch.uint8).numpy().tobytes() for t in tensors]


def check_aliasing(outputs: Sequence[torch.Tensor], inputs: Sequence, expected: Sequence[torch.Tensor]) -> None:
    produced = _storages(outputs)
    if produced & _storages(_tensors(inputs)):
        raise CandidateFailure(FailureKind.OUTPUT_ALIASES_INPUT, "an output shares memory with an input tensor")
    if produced & _storages(expected):
        raise CandidateFailure(FailureKind.OUTPUT_ALIASES_REFERENCE,
                               "an output is the reference's own output buffer")


def check_inputs_unchanged(inputs: Sequence, before: list[bytes]) -> None:
    if fingerprint(_tensors(inputs)) != before:
        raise CandidateFailure(FailureKind.INPUT_MUTATION, "the candidate modified its input tensors")


def check_settled(outputs: Sequence[torch.Tensor], threads_before: set[threading.Thread], device: torch.device) -> None:
    """Outputs must be final when the call returns: no thread still running, no write landing later."""
    started = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
    if started:
        raise CandidateFailure(FailureKind.DEFERRED_WORK,
                               f"the candidate left {len(started)} thread(s) running after returning")
    if device.type == "cuda":
        torch.cuda.current_stream().synchronize()
    first = fingerprint(outputs)
    if device.type == "cuda":
        torch.cuda.synchronize()
    else:
        time.sleep(SETTLE_SECONDS)
    if fingerprint(outputs) != first:
        raise CandidateFailure(FailureKind.DEFERRED_WORK,
                               "outputs changed after the call returned (work left on another stream or thread)")


def check_not_cached(actual: object, expected: object, previous: tuple[list[bytes], list[bytes]] | None) -> None:
    """Different inputs with different answers must not get the same output as last time."""
    if previous is None:
        return
    actual_prints = fingerprint(flatten_outputs(actual))
    expected_prints = fingerprint(flatten_outputs(expected, "reference output"))
    if actual_prints == previous[0] and expected_prints != previous[1]:
        raise CandidateFailure(FailureKind.RESULT_CACHING,
                               "returned the previous trial's output for new inputs (result caching)")


class ReferenceGuard:
    """Counts calls into the reference Model's forward while the candidate runs."""

    def __init__(self, problem: types.ModuleType):
        self.model_class = problem.Model
        self.original = self.model_class.forward
        self.calls = 0
        guard = self

        def forward(module, *args, **kwargs):
            guard.calls += 1
            return guard.original(module, *args, **kwargs)

        self.wrapped = forward

    def __enter__(self) -> ReferenceGuard:
        self.calls = 0
        self.model_class.forward = self.wrapped
        return self

    def __exit__(self, *exc) -> None:
        self.model_class.forward = self.original
        if self.calls and exc[0] is None:
            raise CandidateFailure(FailureKind.CALLS_REFERENCE, "the candidate called the reference Model")


class ForbiddenOps(TorchFunctionMode):
    """Records torch functions the problem asks the candidate to replace (C++/Triton kernels are not seen)."""

    def __init__(self, forbidden: Iterable[str]):
        super().__init__()
        self.forbidden = set(forbidden)
        self.hits: list[str] = []

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        name = resolve_name(func) or getattr(func, "__name__", "")
        if name in self.forbidden:
            self.hits.append(name)
        return func(*args, **(kwargs or {}))

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        if self.hits and exc[0] is None:
            raise CandidateFailure(FailureKind.FORBIDDEN_OP, f"the candidate called {self.hits[0]}, which this problem forbids")


def protected_objects(include_torch: bool = True) -> dict[str, object]:
    """Objects whose identity must not change under the candidate: the timer, the checker, and (unless
    asked not to) the public torch namespaces, so a candidate cannot patch the reference's ops either."""
    from evaluators import compare, timing

    snapshot: dict[str, object] = {}
    if include_torch:
        for prefix, namespace in (("torch", torch), ("torch.nn.functional", torch.nn.functional),
                                  ("torch.Tensor", torch.Tensor)):
            snapshot.update({f"{prefix}.{name}": value for name, value in vars(namespace).items()
                             if not name.startswith("_")})
    return snapshot | {"time.perf_counter_ns": time.perf_counter_ns, "time.perf_counter": time.perf_counter,
            "time.monotonic": time.monotonic, "torch.cuda.synchronize": torch.cuda.synchronize,
            "torch.cuda.Event": torch.cuda.Event, "evaluators.compare.compare_outputs": compare.compare_outputs,
            "evaluators.compare._compare_tensor": compare._compare_tensor,
            "evaluators.timing.time_modules": timing.time_modules, "evaluators.timing._time_cpu": timing._time_cpu,
            "evaluators.timing._time_cuda": timing._time_cuda}


def check_untampered(snapshot: dict[str, object], include_torch: bool = True) -> None:
    current = protected_objects(include_torch)
    for name, original in snapshot.items():
        if (include_torch or not name.startswith("torch.")) and current.get(name, _MISSING) is not original:
            raise CandidateFailure(FailureKind.TAMPERING, f"the candidate replaced {name}")


_MISSING = object()
