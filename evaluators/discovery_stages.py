"""The cascade for discovery problems: import the candidate, score it on training instances, then on held-out ones.

A discovery problem module exposes `METRICS` (name → "max"/"min"), `ENTRY_POINTS` (the functions the candidate must
define) and `evaluate(candidate_module, split)` returning those metrics, deterministically.
"""

from __future__ import annotations

import math
import time
import types
from collections.abc import Callable

from evaluators.compare import CandidateFailure
from evaluators.config import EvalRequest
from evaluators.records import EvalResult, Failure, FailureKind, Stage, StageReport
from kernelbench.problem import load_module, unload_module


def _load(request: EvalRequest, candidate_path: str) -> tuple[types.ModuleType, types.ModuleType]:
    from evaluators.errors import classify_exception

    problem = load_module(request.problem.path, prefix="stark_discovery")
    try:
        candidate = load_module(candidate_path, prefix="stark_candidate")
    except Exception as exc:
        failure = classify_exception(exc)
        kind = FailureKind.IMPORT_ERROR if failure.kind is FailureKind.RUNTIME_ERROR else failure.kind
        raise CandidateFailure(kind, failure.message) from exc
    missing = [name for name in problem.ENTRY_POINTS if not callable(getattr(candidate, name, None))]
    if missing:
        raise CandidateFailure(FailureKind.NO_ENTRY_POINT, f"candidate defines no function {', '.join(missing)}")
    return problem, candidate


def _score(problem: types.ModuleType, candidate: types.ModuleType, split: str) -> dict[str, float]:
    from evaluators.errors import classify_exception

    try:
        metrics = problem.evaluate(candidate, split)
    except Exception as exc:
        raise classify_exception(exc) from exc
    if set(metrics) != set(problem.METRICS):
        raise CandidateFailure(FailureKind.BAD_METRICS, f"metrics {sorted(metrics)} != declared {sorted(problem.METRICS)}")
    bad = [name for name, value in metrics.items() if not isinstance(value, (int, float)) or not math.isfinite(value)]
    if bad:
        raise CandidateFailure(FailureKind.NONFINITE, f"non-finite metrics: {', '.join(bad)}")
    return {name: float(value) for name, value in metrics.items()}


def run_discovery_cascade(request: EvalRequest, candidate_path: str, environment: dict[str, str],
                          on_stage: Callable[[str], None]) -> EvalResult:
    stages: list[StageReport] = []
    loaded: tuple | None = None
    metrics: dict[str, float] = {}
    holdout: dict[str, float] = {}
    steps = [(Stage.COMPILE, lambda: _load(request, candidate_path)),
             (Stage.VERIFY, lambda: _score(*loaded, "train")),
             (Stage.PROFILE, lambda: _score(*loaded, "holdout"))]
    try:
        for stage, step in steps:
            on_stage(stage.value)
            started = time.perf_counter()
            try:
                value = step()
            except CandidateFailure as failure:
                stages.append(StageReport(stage, False, time.perf_counter() - started))
                return EvalResult(request.problem.problem_id, request.config.backend, "-", tuple(stages),
                                  Failure(stage, failure.kind, failure.message), environment=environment,
                                  metrics=metrics)
            if stage is Stage.COMPILE:
                loaded = value
            elif stage is Stage.VERIFY:
                metrics = value
            else:
                holdout = value
            stages.append(StageReport(stage, True, time.perf_counter() - started))
    finally:
        for module in loaded or ():
            unload_module(module)
    return EvalResult(request.problem.problem_id, request.config.backend, "-", tuple(stages), None,
                      environment=environment, metrics=metrics, holdout_metrics=holdout)
