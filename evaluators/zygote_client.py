"""The judge's handle on its zygote: start it in the sandbox, ask it for runners, learn how they ended."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from evaluators.channel import Channel, ChannelClosed
from evaluators.sandbox import SandboxSpec, sandbox_command

STARTUP_TIMEOUT_S = 120.0
SPAWN_TIMEOUT_S = 30.0


class EvaluatorError(RuntimeError):
    """Our side broke (the sandbox could not start, or a runner could not be confined); one line for the user."""


class ZygoteClient:
    def __init__(self, spec: SandboxSpec, root: Path, jobs: Path, cache: Path, inductor: Path, jobs_inside: str = ""):
        self.spec, self.root, self.jobs, self.cache = spec, root, jobs, cache
        self.log_path = root / "zygote.log"
        self.exits: dict[int, int] = {}
        self.ids = itertools.count()
        channel, theirs = Channel.pair()
        channel.expect_credentials()
        self.channel = channel
        _link_torch(jobs)
        command = sandbox_command(spec, jobs, cache, inductor) + [sys.executable, "-u", "-m", "evaluators.zygote",
                                                                  str(theirs.fileno()), jobs_inside or str(jobs)]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=root, env=spec.environment(os.environ), pass_fds=(theirs.fileno(),),
                                            start_new_session=True)
        theirs.close()
        try:
            received = self.channel.receive_sender_pid(time.monotonic() + STARTUP_TIMEOUT_S)
        except ChannelClosed:
            received = None
        if received is None or received[0].get("type") != "ready":
            self.close()
            raise EvaluatorError(f"evaluator sandbox failed to start: {self.last_log_line()}")
        self.environment: dict[str, str] = received[0]["environment"]
        self.host_pid = received[1]
        self.namespace = _pid_namespace(self.host_pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, role: str, job_dir: str, confinement: dict, **extra) -> tuple[Channel, int, int | None]:
        """A new runner: its channel, its pid inside the sandbox and its pid on the host (None when it has
        already exited: a runner that starts working at once may finish before we look)."""
        channel, theirs = Channel.pair()
        channel.expect_credentials()
        spawn_id = next(self.ids)
        try:
            self.channel.send({"type": "spawn", "id": spawn_id, "role": role, "job_dir": job_dir,
                               "confinement": confinement, **extra}, fds=(theirs.fileno(),))
        finally:
            theirs.close()
        spawned = self._next(time.monotonic() + SPAWN_TIMEOUT_S, "spawned", spawn_id)
        if spawned is None:
            channel.close()
            raise EvaluatorError(f"evaluator sandbox stopped answering: {self.last_log_line()}")
        try:
            hello = channel.receive_sender_pid(time.monotonic() + SPAWN_TIMEOUT_S)
        except ChannelClosed:
            hello = None
        if hello is None:
            channel.close()
            code = self.exit_code(spawned["pid"])
            raise EvaluatorError(f"a {role} runner could not be confined (exit {code}): {self.last_log_line()}")
        return channel, spawned["pid"], hello[1]

    def exit_code(self, pid: int, wait_s: float = 3.0) -> int | None:
        """How runner `pid` (inside the sandbox) ended, waiting briefly for the zygote to reap it."""
        deadline = time.monotonic() + wait_s
        while pid not in self.exits:
            if self._next(deadline, "exited") is None:
                return None
        return self.exits.pop(pid)

    def _next(self, deadline: float, kind: str, spawn_id: int | None = None) -> dict | None:
        while True:
            try:
                received = self.channel.receive(deadline)
            except ChannelClosed:
                return None
            if received is None:
                return None
            message, fds = received
            for fd in fds:
                os.close(fd)
            if message["type"] == "exited":
                self.exits[message["pid"]] = message["code"]
            if message["type"] == kind and (spawn_id is None or message.get("id") == spawn_id):
                return message

    def processes(self) -> list[int]:
        """Host pids of everything in the sandbox's PID namespace but the zygote itself."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != self.host_pid:
                try:
                    if os.readlink(entry / "ns" / "pid") == self.namespace:
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found

    def last_log_line(self) -> str:
        try:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        code = self.process.poll()
        return lines[-1].strip() if lines else f"no output (exit status {code})"

    def close(self) -> None:
        try:
            self.channel.close()
        except OSError:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()


def _link_torch(jobs: Path) -> None:
    """A path to torch without spaces, for the C++ toolchain (see evaluators.zygote.route_around_spaces)."""
    import torch

    torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
    if any(c.isspace() for c in torch_dir):
        (jobs / ".torch").symlink_to(torch_dir)


def _pid_namespace(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""
