"""How a worker process is confined.

Covered, where the machine has the tools (the verdict's footer says which applied):
- bubblewrap: the whole filesystem read-only, a private /tmp, writable only the worker's scratch directory
  and the build cache, run directories (program databases) hidden behind empty tmpfs mounts, a new PID
  namespace (the parent is not visible, let alone killable) and a new network namespace (no network);
- setpriv: the worker runs as the unprivileged uid/gid 65534, so RLIMIT_NPROC caps forks and files of
  other users (root's home, the parent's secrets) are unreadable;
- rlimits: address space (CPU workers; CUDA reserves huge virtual ranges), file size, process count,
  no core dumps, CPU time per job; a wall-clock SIGKILL of the whole process group that cannot be blocked;
- an environment stripped of the parent's variables (no API keys), HOME pointing at the scratch directory.
Without bubblewrap, `unshare --net` still removes the network.  Not covered: seccomp syscall filtering,
GPU memory isolation between workers, side channels (timing, /proc of the worker itself), and the build
cache is shared, so one candidate can write into it (each extension builds in a directory named by the
hash of its source, so a tampered build is not picked up by a different source).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from evaluators.config import EvalConfig

_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CC", "CXX", "PYTHONPATH",
             "VIRTUAL_ENV", "LD_LIBRARY_PATH")
SANDBOX_UID = 65534
MAX_PROCESSES = 256


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    backend: str
    memory_limit_gb: float
    file_size_limit_mb: int = 2048
    hidden_paths: tuple[str, ...] = ()
    isolate: bool = True

    @classmethod
    def for_config(cls, config: EvalConfig) -> SandboxSpec:
        return cls(config.backend, config.memory_limit_gb, config.file_size_limit_mb, config.hidden_paths,
                   config.sandbox)

    def limits(self) -> dict[str, int]:
        address_space = int(self.memory_limit_gb * 1024**3) if self.backend == "cpu" else 0
        return {"address_space_bytes": address_space, "file_size_bytes": self.file_size_limit_mb * 1024**2,
                "max_processes": MAX_PROCESSES if self.unprivileged else 0}

    @property
    def unprivileged(self) -> bool:
        return self.isolate and (os.geteuid() != 0 or setpriv_available())

    def environment(self, parent: Mapping[str, str], scratch: Path) -> dict[str, str]:
        env = {key: parent[key] for key in _KEPT_ENV if key in parent}
        env.update(PYTHONUNBUFFERED="1", HOME=str(scratch), TMPDIR=str(scratch),
                   OMP_NUM_THREADS=parent.get("OMP_NUM_THREADS", "1"))
        if self.backend == "cpu":
            env["TRITON_INTERPRET"] = "1"
            env["CUDA_VISIBLE_DEVICES"] = ""
        return env


def _works(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def bubblewrap_available() -> bool:
    return shutil.which("bwrap") is not None and _works(
        ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net", "--unshare-pid", "true"])


@functools.cache
def setpriv_available() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None and _works(
        ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups", "true"])


@functools.cache
def network_namespace_available() -> bool:
    return _works(["unshare", "--net", "true"])


def prepare_writable(path: Path) -> None:
    """Give the sandbox user a directory tree it may write (only needed when we drop privileges)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not setpriv_available() or path.stat().st_uid == SANDBOX_UID:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, SANDBOX_UID, SANDBOX_UID)
        for name in files:
            os.chown(os.path.join(root, name), SANDBOX_UID, SANDBOX_UID, follow_symlinks=False)


_MASKED = ("/tmp", "/root")


def _paths_to_restore(readable: tuple[Path, ...]) -> list[str]:
    """What the worker needs from under the masked /tmp and /root: the interpreter, the virtual environment,
    the import path (an editable checkout may live in /tmp) and the problem files; outermost paths only."""
    import sys

    import kernelbench

    packages = {os.path.dirname(os.path.dirname(os.path.abspath(module.__file__)))
                for module in (sys.modules[__name__.split(".")[0]], kernelbench)}
    wanted = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), *map(str, readable),
              *packages}
    wanted |= {entry for entry in sys.path if entry and os.path.isdir(entry)}
    under = sorted({os.path.realpath(p) for p in wanted if p} | {os.path.abspath(p) for p in wanted if p})
    under = [p for p in under if any(p == m or p.startswith(m + "/") for m in _MASKED) and p not in _MASKED
             and os.path.exists(p)]
    return [p for p in under if not any(p != q and p.startswith(q + "/") for q in under)]


def sandbox_command(spec: SandboxSpec, scratch: Path, writable: tuple[Path, ...],
                    readable: tuple[Path, ...] = ()) -> tuple[list[str], dict[str, str]]:
    """The command prefix, and where each writable host path appears inside the sandbox.

    Under bubblewrap the scratch directory and the writable paths are mounted at fixed, traversable places
    in the private /tmp (/tmp/stark/...), because their host parents (a 0700 home, a 0700 pytest tree)
    would not be.
    """
    paths = {str(p): str(p) for p in (scratch, *writable)}
    if not spec.isolate:
        return [], paths
    command: list[str] = []
    if bubblewrap_available():
        command = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
                   "--perms", "0755", "--tmpfs", "/root", "--unshare-net", "--unshare-pid", "--die-with-parent"]
        for needed in _paths_to_restore(readable):
            command += ["--ro-bind", needed, needed]
        for hidden in spec.hidden_paths:
            if Path(hidden).is_dir():
                command += ["--tmpfs", hidden]
        command += ["--perms", "0755", "--dir", "/tmp/stark"]
        paths = {str(scratch): "/tmp/stark/scratch"}
        paths.update({str(p): f"/tmp/stark/writable{i}" for i, p in enumerate(writable)})
        for host, inside in paths.items():
            command += ["--bind", host, inside]
        command += ["--chdir", "/tmp/stark/scratch", "--setenv", "HOME", "/tmp/stark/scratch",
                    "--setenv", "TMPDIR", "/tmp", "--"]
    elif network_namespace_available():
        command = ["unshare", "--net", "--"]
    if os.geteuid() == 0 and setpriv_available():
        command += ["setpriv", f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups",
                    "--no-new-privs", "--"]
    return command, paths


def isolation_summary(spec: SandboxSpec) -> str:
    if not spec.isolate:
        return "NO sandbox (disabled in config)"
    parts = []
    if bubblewrap_available():
        parts.append("bubblewrap (read-only fs, private /tmp, no network, own PID namespace)")
    elif network_namespace_available():
        parts.append("no network (unshare); filesystem NOT read-only")
    else:
        parts.append("network NOT isolated; filesystem NOT read-only")
    parts.append(f"uid {SANDBOX_UID}" if os.geteuid() == 0 and setpriv_available() else
                 ("running as root: no process cap" if os.geteuid() == 0 else f"uid {os.geteuid()}"))
    parts.append(f"{spec.memory_limit_gb:g} GiB address space" if spec.backend == "cpu" else "no address-space cap")
    return "; ".join(parts) + "; process-group kill on timeout"
