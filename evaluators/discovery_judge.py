"""Discovery problems through the judge: a fresh, confined runner per job runs the problem's simulator
against the candidate's functions and reports the metrics.

Unlike kernels, the score is computed inside the candidate's process (the simulator calls the policy too
often for a call across processes); docs/judge.md lists this as not covered.
"""

from __future__ import annotations

import dataclasses
import time

from evaluators.config import EvalRequest
from evaluators.confinement import CANDIDATE_UID
from evaluators.records import EvalResult, Failure, FailureKind, Stage, StageReport
from evaluators.runner_handle import RunnerGone, RunnerTimeout, describe_exit


def judge_discovery(judge, request: EvalRequest, job: int) -> EvalResult:
    runner = judge._spawn(request, job, "discovery", CANDIDATE_UID, files={"candidate.py": request.candidate_source.encode()},
                          problem=dataclasses.asdict(request.problem), module_path="candidate.py")
    stage, started = Stage.COMPILE, time.monotonic()
    finished: list[StageReport] = []
    try:
        while True:
            deadline = started + request.config.timeouts.for_stage(stage.value)
            message = runner.reply(deadline)
            if message["type"] == "stage":
                reached = Stage(message["stage"])
                if reached != stage:
                    finished.append(StageReport(stage, True, time.monotonic() - started))
                    stage, started = reached, time.monotonic()
            elif message["type"] == "result":
                return EvalResult.from_dict(message["result"])
            else:
                kind, text = FailureKind.TAMPERING, f"the candidate's process answered out of turn ({str(message)[:200]})"
                break
    except RunnerTimeout:
        kind = FailureKind.TIMEOUT
        text = f"{stage.value} stage exceeded {request.config.timeouts.for_stage(stage.value):g} s wall clock; runner killed"
    except RunnerGone:
        code = judge.zygote.exit_code(runner.inner_pid)
        kind, text = describe_exit(code) if code is not None else (FailureKind.CRASH, "the runner hung up")
        text = f"the candidate's process {text}"
    finally:
        runner.kill()
    stages = tuple(finished) + (StageReport(stage, False, time.monotonic() - started),)
    return EvalResult(request.problem.problem_id, request.config.backend, "-", stages,
                      Failure(stage, kind, text, runner.output_tail()))
