"""Compile, verify and profile candidate kernels: a trusted judge, sandboxed runner processes, a Ray pool.

The heavy parts (the judge, the Ray pool) load on first use, so the sandboxed zygote, which imports this
package, does not drag Ray into every runner.
"""

from evaluators.config import EvalConfig, EvalRequest, StageTimeouts
from evaluators.records import EvalResult, Failure, FailureKind, ProfileReport, Stage, TimingStats, VerifyReport

__all__ = ["EvalConfig", "EvalRequest", "EvalResult", "EvaluatorError", "EvaluatorPool", "Failure", "FailureKind",
           "Judge", "ProfileReport", "Stage", "StageTimeouts", "TimingStats", "VerifyReport"]

_LAZY = {"Judge": "evaluators.judge", "EvaluatorPool": "evaluators.pool", "EvaluatorError": "evaluators.zygote_client"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'evaluators' has no attribute {name!r}")
