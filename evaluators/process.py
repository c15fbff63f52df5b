"""The parent's handle on one worker process: start it, feed it requests, enforce deadlines, kill it.

The worker runs in its own session (process group), so a SIGKILL reaches anything the candidate spawned
(compilers, threads, forks).  A hang, a segfault, a memory blow-up or a CUDA error costs that process
only; the next request starts a fresh one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

from evaluators.config import EvalRequest
from evaluators.protocol import request_to_dict
from evaluators.records import KILLING_KINDS, EvalResult, Failure, FailureKind, Stage, StageReport
from evaluators.sandbox import SandboxSpec, isolation_summary, prepare_writable, sandbox_command

STARTUP_TIMEOUT_S = 120.0
OUTPUT_TAIL_CHARS = 4000


class EvaluatorError(RuntimeError):
    """Our side broke (the worker could not start, or raised outside a candidate's code)."""


class WorkerProcess:
    def __init__(self, scratch_root: str | Path | None = None, max_jobs: int = 50):
        self.scratch_root = Path(scratch_root or tempfile.gettempdir())
        self.max_jobs = max_jobs
        self.process: subprocess.Popen | None = None
        self.conn: Connection | None = None
        self.spec: SandboxSpec | None = None
        self.writable: tuple[Path, ...] = ()
        self.readable: tuple[Path, ...] = ()
        self.paths: dict[str, str] = {}
        self.environment: dict[str, str] = {}
        self.jobs_done = 0
        self.starts = 0
        self.log_path: Path | None = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def start(self, spec: SandboxSpec, writable: tuple[Path, ...] = (), readable: tuple[Path, ...] = ()) -> None:
        self.close()
        scratch = Path(tempfile.mkdtemp(prefix="stark-worker-", dir=self.scratch_root))
        for path in (scratch, *writable):
            prepare_writable(path)
        self.log_path = scratch / "worker.log"
        parent_sock, child_sock = socket.socketpair()
        limits = json.dumps(spec.limits())
        prefix, self.paths = sandbox_command(spec, scratch, writable, readable)
        command = prefix + [sys.executable, "-u", "-m", "evaluators.worker", str(child_sock.fileno()), limits]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=scratch,
                env=spec.environment(os.environ, scratch), pass_fds=(child_sock.fileno(),), start_new_session=True)
        child_sock.close()
        self.conn = Connection(os.dup(parent_sock.fileno()))
        parent_sock.close()
        self.spec, self.writable, self.readable, self.jobs_done = spec, writable, readable, 0
        self.starts += 1
        message = self._receive(time.monotonic() + STARTUP_TIMEOUT_S)
        if message is None or message.get("type") != "ready":
            tail = self._read_tail(0)
            self.close()
            raise EvaluatorError(f"evaluator worker failed to start: {tail.strip().splitlines()[-1:] or message}")
        self.environment = dict(message["environment"], sandbox=isolation_summary(spec))

    def evaluate(self, request: EvalRequest) -> EvalResult:
        spec = SandboxSpec.for_config(request.config)
        writable = (Path(request.build_cache_dir).resolve(),) if request.build_cache_dir else ()
        readable = (Path(request.problem.path).resolve().parent,)
        if (self.process is None or self.process.poll() is not None or spec != self.spec
                or writable != self.writable or readable != self.readable or self.jobs_done >= self.max_jobs):
            self.start(spec, writable, readable)
        offset = self.log_path.stat().st_size
        sent = request
        if writable:
            sent = dataclasses.replace(request, build_cache_dir=self.paths[str(writable[0])])
        self.conn.send_bytes(json.dumps({"type": "job", "request": request_to_dict(sent)}).encode())
        result = dataclasses.replace(self._follow(request, offset), environment=self.environment)
        self.jobs_done += 1
        if result.failure is not None:
            result = dataclasses.replace(result, failure=dataclasses.replace(
                result.failure, output_tail=self._read_tail(offset)))
            if result.failure.kind in KILLING_KINDS:
                self.close()
        return result

    def _follow(self, request: EvalRequest, offset: int) -> EvalResult:
        """Wait for the result, moving the deadline each time the worker reports a new stage."""
        stage = Stage.COMPILE
        stage_started = time.monotonic()
        deadline = stage_started + request.config.timeouts.for_stage(stage.value)
        finished: list[StageReport] = []
        while True:
            message = self._receive(deadline)
            if message is None:
                return self._died(request, stage, stage_started, finished, deadline)
            if message["type"] == "stage":
                if Stage(message["stage"]) != stage:
                    finished.append(StageReport(stage, True, time.monotonic() - stage_started))
                stage = Stage(message["stage"])
                stage_started = time.monotonic()
                deadline = stage_started + request.config.timeouts.for_stage(stage.value)
            elif message["type"] == "done":
                return EvalResult.from_dict(message["result"])
            else:
                self.close()
                raise EvaluatorError(f"evaluator worker error: {message.get('message', message)}")

    def _died(self, request: EvalRequest, stage: Stage, started: float, finished: list[StageReport],
              deadline: float) -> EvalResult:
        timed_out = time.monotonic() >= deadline and self.process.poll() is None
        if timed_out:
            self.kill()
            kind = FailureKind.TIMEOUT
            message = f"{stage.value} stage exceeded {request.config.timeouts.for_stage(stage.value):g} s wall clock; worker killed"
        else:
            code = self.process.wait(timeout=10)
            kind, message = _describe_exit(code)
            self.kill()
        stages = tuple(finished) + (StageReport(stage, False, time.monotonic() - started),)
        return EvalResult(request.problem.problem_id, request.config.backend, request.problem.shape_set, stages,
                          Failure(stage, kind, message), environment=self.environment)

    def _receive(self, deadline: float) -> dict | None:
        """The next message, or None when the deadline passes or the worker is gone."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                if self.conn.poll(min(remaining, 1.0)):
                    return json.loads(self.conn.recv_bytes())
            except (EOFError, OSError):
                return None
            if self.process.poll() is not None and not self.conn.poll(0):
                return None

    def _read_tail(self, offset: int) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            data = log.read()
        return data.decode(errors="replace")[-OUTPUT_TAIL_CHARS:]

    def kill(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.kill()
        self.process = None


def _describe_exit(code: int) -> tuple[FailureKind, str]:
    """A negative code is a signal; inside bubblewrap's PID namespace a signal death arrives as 128 + signal."""
    if code > 128 and code - 128 in {s.value for s in signal.Signals}:
        code = -(code - 128)
    if code < 0:
        name = signal.Signals(-code).name
        if -code == signal.SIGXCPU:
            return FailureKind.TIMEOUT, f"worker exceeded its CPU-time limit ({name})"
        if -code == signal.SIGKILL:
            return FailureKind.OUT_OF_MEMORY, "worker was killed by SIGKILL (likely the kernel's OOM killer)"
        return FailureKind.CRASH, f"worker died with {name}"
    return FailureKind.CRASH, f"worker exited with status {code} mid-evaluation"
