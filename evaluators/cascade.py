"""Run the stages in order, stop at the first failure, and turn the outcome into one EvalResult."""

from __future__ import annotations

import time
from collections.abc import Callable

from evaluators.compare import CandidateFailure
from evaluators.config import EvalRequest
from evaluators.records import EvalResult, Failure, Stage, StageReport
from evaluators.stages import classify_exception, compile_stage, profile_stage, verify_stage
from kernelbench.problem import unload_module


def run_cascade(request: EvalRequest, candidate_path: str, environment: dict[str, str],
                on_stage: Callable[[str], None]) -> EvalResult:
    stages: list[StageReport] = []
    verify = profile = None
    loaded = None

    def fail(stage: Stage, started: float, failure: CandidateFailure) -> EvalResult:
        stages.append(StageReport(stage, False, time.perf_counter() - started))
        return EvalResult(request.problem.problem_id, request.config.backend, request.problem.shape_set,
                          tuple(stages), Failure(stage, failure.kind, failure.message), verify, profile, environment)

    steps = [Stage.COMPILE, Stage.VERIFY] + ([Stage.PROFILE] if request.config.profile else [])
    try:
        for stage in steps:
            on_stage(stage.value)
            started = time.perf_counter()
            try:
                if stage is Stage.COMPILE:
                    loaded = compile_stage(request, candidate_path)
                elif stage is Stage.VERIFY:
                    verify = verify_stage(loaded, request.config)
                else:
                    profile = profile_stage(loaded, request.config)
            except CandidateFailure as failure:
                return fail(stage, started, failure)
            except (MemoryError, RuntimeError) as exc:
                return fail(stage, started, classify_exception(exc))
            stages.append(StageReport(stage, True, time.perf_counter() - started))
    finally:
        if loaded is not None:
            unload_module(loaded.problem)
            unload_module(loaded.candidate)
    return EvalResult(request.problem.problem_id, request.config.backend, request.problem.shape_set,
                      tuple(stages), None, verify, profile, environment)
