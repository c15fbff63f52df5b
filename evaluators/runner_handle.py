"""The judge's handle on one runner: ask it things under a deadline, stop and resume it, kill it.

Between calls a runner is stopped (SIGSTOP to its process group), so none of its threads runs while the
judge writes inputs, reads outputs or times anything else; both runners get the same treatment, so the
wake-up is part of every timed call alike and the null calibration removes it.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from evaluators.channel import Channel, ChannelClosed
from evaluators.records import FailureKind

OUTPUT_TAIL_CHARS = 4000
STOP_WAIT_S = 2.0
STOP_POLL_FIRST_S = 20e-6
STOP_POLL_MAX_S = 2.5e-4


class RunnerGone(Exception):
    """The runner died or hung up; the zygote's exit code says how."""


class RunnerTimeout(Exception):
    """The deadline passed before the runner answered; `role` says whose ("candidate", "reference", ...)."""

    def __init__(self, role: str = "candidate"):
        super().__init__(role)
        self.role = role


class RunnerHandle:
    def __init__(self, role: str, channel: Channel, inner_pid: int, host_pid: int | None, job_dir: Path):
        self.role, self.channel, self.inner_pid, self.host_pid, self.job_dir = role, channel, inner_pid, host_pid, job_dir
        self.stopped = False
        self.dead = host_pid is None

    def send(self, message: dict, fds: tuple[int, ...] = ()) -> None:
        try:
            self.channel.send(message, fds)
        except ChannelClosed as exc:
            raise RunnerGone(str(exc)) from None

    def reply(self, deadline: float, on_build: Callable[[dict], dict] | None = None, nonce: str | None = None) -> dict:
        """The next answer; build requests on the way are served by `on_build` and answered in place."""
        while True:
            try:
                received = self.channel.receive(deadline)
            except ChannelClosed as exc:
                raise RunnerGone(str(exc)) from None
            if received is None:
                raise RunnerTimeout(self.role)
            message, fds = received
            for fd in fds:
                os.close(fd)
            if message["type"] == "build" and on_build is not None:
                self.send(on_build(message))
                continue
            if nonce is not None and message.get("nonce") != nonce:
                continue  # a stale answer to an earlier call, or one forged by a thread of the candidate
            return message

    def ask(self, message: dict, deadline: float, fds: tuple[int, ...] = (),
            on_build: Callable[[dict], dict] | None = None) -> dict:
        self.resume()
        try:
            self.send(message, fds)
            return self.reply(deadline, on_build)
        finally:
            self.pause()

    def pause(self) -> None:
        """Stop every thread of the runner; the candidate's are waited for until the kernel says they are all
        stopped, before anything else is read or timed (the trusted runners are idle when paused)."""
        self.send_stop()
        self.wait_stopped()

    def send_stop(self) -> None:
        """The stop itself (a signal to the process group): a timed call's clock stops right after it, so work a
        candidate's thread does after the answer counts until the threads are told to stop."""
        if self.dead:
            return
        self._signal(signal.SIGSTOP)
        self.stopped = True

    def wait_stopped(self) -> None:
        if self.dead or self.role != "candidate":
            return
        deadline = time.monotonic() + STOP_WAIT_S
        delay = STOP_POLL_FIRST_S
        while not self._all_stopped() and time.monotonic() < deadline:
            time.sleep(delay)           # sleeping, not spinning: each look at /proc costs the judge ~35 µs of CPU,
            delay = min(2 * delay, STOP_POLL_MAX_S)   # and a stop takes a few tenths of a millisecond here

    def resume(self) -> None:
        if self.stopped and not self.dead:
            self._signal(signal.SIGCONT)
            self.stopped = False

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.host_pid, sig)
        except (ProcessLookupError, PermissionError):
            self.dead = True

    def page_faults(self) -> int | None:
        """Page faults the runner's process has taken so far, as the kernel counts them (the candidate cannot
        make this number up): the judge reports them per timed call, where memory handed back and faulted in
        again on every call shows."""
        fields = _stat_fields(f"/proc/{self.host_pid}/stat")
        return None if fields is None else int(fields[7]) + int(fields[9])    # minflt, majflt

    def _all_stopped(self) -> bool:
        if not self._task_stopped(str(self.host_pid)):     # the main thread first: one read, not one per thread
            return False
        try:
            tasks = os.listdir(f"/proc/{self.host_pid}/task")
        except OSError:
            return True
        return all(self._task_stopped(task) for task in tasks if task != str(self.host_pid))

    def _task_stopped(self, task: str) -> bool:
        fields = _stat_fields(f"/proc/{self.host_pid}/task/{task}/stat")
        return fields is None or fields[0] in (b"T", b"t", b"Z", b"X")     # gone counts as stopped

    def kill(self) -> None:
        if not self.dead:
            self._signal(signal.SIGKILL)
            self._signal(signal.SIGCONT)
        self.dead = True
        self.channel.close()

    def output_tail(self, offset: int = 0) -> str:
        try:
            with open(self.job_dir / "output.log", "rb") as log:
                log.seek(offset)
                data = log.read()
        except OSError:
            return ""
        return data.decode(errors="replace")[-OUTPUT_TAIL_CHARS:]


def _stat_fields(path: str) -> list[bytes] | None:
    """The fields of a /proc stat file after the command name (which may hold spaces and parentheses), from the
    state on; None when the process or thread is gone."""
    try:
        with open(path, "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields or None


def describe_exit(code: int) -> tuple[FailureKind, str]:
    """What a runner's exit status says happened to it, as the failure a candidate is charged with."""
    if code < 0:
        name = signal.Signals(-code).name
        if -code == signal.SIGXCPU:
            return FailureKind.TIMEOUT, f"exceeded its CPU-time limit ({name})"
        if -code == signal.SIGKILL:
            return FailureKind.OUT_OF_MEMORY, "was killed by SIGKILL (likely the kernel's OOM killer)"
        if -code == signal.SIGSYS:
            return FailureKind.SANDBOX_VIOLATION, "was killed for a forbidden system call (SIGSYS)"
        return FailureKind.CRASH, f"died with {name}"
    return FailureKind.CRASH, f"exited with status {code} mid-evaluation"
