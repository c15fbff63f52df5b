"""The zygote: a sandboxed process that imports torch once and forks a fresh runner for every job.

Started by `evaluators.zygote_client.ZygoteClient` as `python -u -m evaluators.zygote FD` inside bubblewrap.
It never imports candidate code itself, so every runner starts from the same clean state: a patch, a thread
or a child left by one job cannot reach the next.  Each child closes the zygote's socket, takes its own
socket (passed in with the spawn request), gives up its privileges (`evaluators.confinement`) and serves.
The zygote reaps children and reports how each one ended.
"""

from __future__ import annotations

import faulthandler
import os
import select
import signal
import sys
import tempfile
import traceback

from evaluators.channel import Channel, ChannelClosed
from evaluators.confinement import HOSTED_RAISED, SETUP_FAILED


def environment() -> dict[str, str]:
    import platform
    from pathlib import Path

    import torch

    cpu = platform.processor() or "unknown"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpu": cpu, "executable": sys.executable}
    gpu = _gpu_name()
    if gpu:
        info["gpu"] = gpu
        info["cuda"] = str(torch.version.cuda)
    return info


def _gpu_name() -> str:
    """Asked of nvidia-smi, not torch: the zygote forks every runner, and a CUDA context made here
    (`torch.cuda.get_device_name` makes one) cannot be used in a forked child."""
    import shutil
    import subprocess

    if not shutil.which("nvidia-smi"):
        return ""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.strip().splitlines()[0].strip() if out.strip() else ""


class Zygote:
    def __init__(self, channel: Channel):
        self.channel = channel
        self.children: set[int] = set()
        self.wake_read, self.wake_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def serve(self) -> None:
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(self.wake_write)
        self.channel.send({"type": "ready", "pid": os.getpid(), "environment": environment()})
        while True:
            try:
                readable, _, _ = select.select([self.channel.sock, self.wake_read], [], [])
            except InterruptedError:
                continue
            if self.wake_read in readable:
                while _drain(self.wake_read):
                    pass
            self.reap()
            if self.channel.sock in readable:
                try:
                    message, fds = self.channel.receive()
                except ChannelClosed:
                    self.shutdown()
                    return
                if message["type"] == "spawn":
                    self.spawn(message, fds)

    def spawn(self, message: dict, fds: list[int]) -> None:
        pid = os.fork()
        if pid == 0:
            self.become_runner(message, fds)
        for fd in fds:
            os.close(fd)
        self.children.add(pid)
        self.channel.send({"type": "spawned", "id": message["id"], "pid": pid})

    def become_runner(self, message: dict, fds: list[int]) -> None:
        """Exit 71 if the runner could not be confined (our failure, shown from the zygote's log), 70 if
        what it hosted raised its way out (the candidate's failure, shown from the runner's own log)."""
        code = SETUP_FAILED
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (self.wake_read, self.wake_write):
                os.close(fd)
            self.channel.close()
            os.setsid()
            from evaluators import confinement, runner

            runner_channel = Channel.from_fd(fds[0])
            confinement.apply(confinement.Confinement.from_dict(message["confinement"]))
            job_dir = message["job_dir"]
            log = os.open(os.path.join(job_dir, "output.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(log, 1)
            os.dup2(log, 2)
            os.close(log)
            os.chdir(job_dir)
            inductor = message["inductor"] if message["role"] == "reference" else os.path.join(job_dir, "inductor")
            # Named by environment: the runners' uids have no passwd entry, and getpass.getuser() (inductor's and
            # Triton's cache paths) raises KeyError where neither LOGNAME nor USER is set.
            user = f"stark-{message['role']}"
            os.environ.update(HOME=job_dir, TMPDIR=job_dir, TORCHINDUCTOR_CACHE_DIR=inductor, LOGNAME=user, USER=user,
                              TRITON_CACHE_DIR=os.path.join(job_dir if message["role"] != "reference" else inductor,
                                                            "triton"))
            tempfile.tempdir = None  # the zygote may have cached the sandbox's /tmp, which runners cannot write
            faulthandler.enable()
            runner_channel.send({"type": "hello"})  # the judge learns our host pid from the kernel's credentials
            code = HOSTED_RAISED
            runner.serve(runner_channel, message)
            code = 0
        except BaseException:  # noqa: BLE001 - whatever broke goes to a log for the judge to show
            traceback.print_exc()
            sys.stderr.flush()
        os._exit(code)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            try:
                self.channel.send({"type": "exited", "pid": pid, "code": code})
            except ChannelClosed:
                return

    def shutdown(self) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _drain(fd: int) -> bool:
    try:
        return bool(os.read(fd, 4096))
    except BlockingIOError:
        return False


def route_around_spaces(jobs: str) -> None:
    """torch quotes its include paths for C++ builds but not its library path (nor does inductor): when torch
    lives under a path with spaces, builds (the builder's, and torch.compile's in the reference runner) see it
    through a link without spaces that the judge made in the jobs directory."""
    import torch.utils.cpp_extension as cpp_extension

    link = os.path.join(jobs, ".torch")
    if not any(c.isspace() for c in cpp_extension._TORCH_PATH) or not os.path.isdir(link):
        return
    cpp_extension._TORCH_PATH = link
    cpp_extension.TORCH_LIB_PATH = os.path.join(link, "lib")
    import torch._inductor.cpp_builder as cpp_builder

    cpp_builder._TORCH_PATH = link


def main(argv: list[str]) -> None:
    channel = Channel.from_fd(int(argv[1]))
    import torch  # noqa: F401  (imported once, before any fork: what the zygote is for)

    import torch.utils.cpp_extension  # noqa: F401  (what every runner needs, loaded before any uid is dropped)

    # torch.compile's baseline imports dynamo into the reference's process, and that import changes the process
    # (it rewraps torch.manual_seed, among others): with it there and not in the candidate's, the problem's own
    # Model measured 0.83-0.90x against itself on level-2 problems.  Every runner starts with it loaded.
    import torch._dynamo  # noqa: F401

    import evaluators.confinement  # noqa: F401
    import evaluators.discovery_stages  # noqa: F401
    import evaluators.extension_builder  # noqa: F401
    import evaluators.extension_client  # noqa: F401
    import evaluators.forbidden  # noqa: F401
    import evaluators.huge_pages
    import evaluators.integrity  # noqa: F401
    import evaluators.runner  # noqa: F401
    import kernelbench.problem  # noqa: F401

    if evaluators.confinement.seccomp_available():
        import pyseccomp  # noqa: F401

        evaluators.confinement.prebuild_filters()
    if len(argv) > 2:
        route_around_spaces(argv[2])
    evaluators.integrity.snapshot_before_fork()
    evaluators.huge_pages.collapse_heap()     # the last thing before serving: what is imported is what is forked
    Zygote(channel).serve()


if __name__ == "__main__":
    main(sys.argv)
