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


def protected_objects() -> dict[str, object]:
    snapshot: dict[str, object] = {}
    for prefix, namespace in (("torch", torch), ("torch.nn.functional", torch.nn.functional),
                              ("torch.Tensor", torch.Tensor), ("torch.nn.Module", torch.nn.Module)):
        snapshot.update({f"{prefix}.{name}": value for name, value in vars(namespace).items()
                         if not name.startswith("_") or name in ("__call__", "__eq__", "__sub__", "_call_impl")})
    for name in ("perf_counter_ns", "perf_counter", "monotonic", "monotonic_ns", "time", "time_ns"):
        snapshot[f"time.{name}"] = getattr(time, name)
    return snapshot


def check_untampered(snapshot: dict[str, object]) -> None:
    current = protected_objects()
    for name, original in snapshot.items():
        if current.get(name, _MISSING) is not original:
            raise CandidateFailure(FailureKind.TAMPERING, f"the candidate replaced {name}")


_MISSING = object()
