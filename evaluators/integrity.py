"""A courtesy check inside the candidate's runner: did importing or running the candidate replace the
clock or public torch functions?

It guarantees nothing (it runs in the candidate's own process, which can defeat it); the score does not
depend on it, because the judge times and checks from outside.  It only names an obvious attempt.
"""

from __future__ import annotations

import time

import torch

from evaluators.compare import CandidateFailure
from evaluators.records import FailureKind


def _namespaces() -> tuple[tuple[str, object], ...]:
    return (("torch", torch), ("torch.nn.functional", torch.nn.functional), ("torch.Tensor", torch.Tensor),
            ("torch.nn.Module", torch.nn.Module), ("time", time))


_DUNDERS_KEPT = ("__call__", "__eq__", "__sub__", "_call_impl")
_CLOCKS = ("perf_counter_ns", "perf_counter", "monotonic", "monotonic_ns", "time", "time_ns")


def protected_objects() -> dict[str, dict[str, object]]:
    """Per namespace, its public objects (and a few dunders) as they are now."""
    snapshot: dict[str, dict[str, object]] = {}
    for prefix, namespace in _namespaces():
        if prefix == "time":
            snapshot[prefix] = {name: getattr(time, name) for name in _CLOCKS}
        else:
            snapshot[prefix] = {name: value for name, value in vars(namespace).items()
                                if not name.startswith("_") or name in _DUNDERS_KEPT}
    return snapshot


ZYGOTE_SNAPSHOT: dict[str, dict[str, object]] | None = None
"""Taken once in the zygote, before any fork: every runner inherits it without touching a few thousand objects
(copy-on-write faults after the fork cost a candidate's runner about 2 ms of CPU per snapshot)."""


def snapshot_before_fork() -> None:
    global ZYGOTE_SNAPSHOT
    ZYGOTE_SNAPSHOT = protected_objects()


def check_untampered(snapshot: dict[str, dict[str, object]]) -> None:
    for prefix, namespace in _namespaces():
        current = vars(namespace)
        for name, original in snapshot.get(prefix, {}).items():
            if current.get(name, _MISSING) is not original:
                raise CandidateFailure(FailureKind.TAMPERING, f"the candidate replaced {prefix}.{name}")


_MISSING = object()
