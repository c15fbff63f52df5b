"""Compile, verify and profile candidate kernels in sandboxed worker processes."""

from evaluators.config import EvalConfig, EvalRequest, StageTimeouts
from evaluators.pool import EvaluatorPool
from evaluators.judge import Judge
from evaluators.zygote_client import EvaluatorError
from evaluators.records import EvalResult, Failure, FailureKind, ProfileReport, Stage, TimingStats, VerifyReport

__all__ = ["EvalConfig", "EvalRequest", "EvalResult", "EvaluatorError", "EvaluatorPool", "Failure", "FailureKind",
           "ProfileReport", "Stage", "StageTimeouts", "TimingStats", "VerifyReport", "Judge"]
