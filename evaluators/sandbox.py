"""How a worker process is confined.

Covered: no network (a fresh network namespace via `unshare --net`, where the kernel allows it), an
address-space cap on CPU workers (CUDA reserves huge virtual ranges, so GPU workers go without), a file-size
cap, no core dumps, a per-job CPU-time cap, a wall-clock kill of the whole process group, a private
scratch directory as the working directory, and an environment stripped of the parent's secrets.
Not covered yet: a read-only view of the rest of the filesystem, an unprivileged uid (so RLIMIT_NPROC
applies and files outside scratch are protected), seccomp.  Those belong to the hardened sandbox.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from evaluators.config import EvalConfig

_KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CC", "CXX",
             "PYTHONPATH", "VIRTUAL_ENV", "LD_LIBRARY_PATH")
FILE_SIZE_LIMIT_BYTES = 2 * 1024**3


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    backend: str
    memory_limit_gb: float
    isolate_network: bool = True

    @classmethod
    def for_config(cls, config: EvalConfig) -> SandboxSpec:
        return cls(config.backend, config.memory_limit_gb)

    def limits(self) -> dict[str, int]:
        address_space = int(self.memory_limit_gb * 1024**3) if self.backend == "cpu" else 0
        return {"address_space_bytes": address_space, "file_size_bytes": FILE_SIZE_LIMIT_BYTES}

    def environment(self, parent: Mapping[str, str]) -> dict[str, str]:
        env = {key: parent[key] for key in _KEPT_ENV if key in parent}
        env["PYTHONUNBUFFERED"] = "1"
        env["OMP_NUM_THREADS"] = parent.get("OMP_NUM_THREADS", "1")
        if self.backend == "cpu":
            env["TRITON_INTERPRET"] = "1"
            env["CUDA_VISIBLE_DEVICES"] = ""
        return env


@functools.cache
def network_namespace_available() -> bool:
    try:
        return subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def sandbox_command(spec: SandboxSpec) -> list[str]:
    if spec.isolate_network and network_namespace_available():
        return ["unshare", "--net", "--"]
    return []


def isolation_summary(spec: SandboxSpec) -> str:
    network = "no network" if spec.isolate_network and network_namespace_available() else "network NOT isolated"
    memory = f"{spec.memory_limit_gb:g} GiB address space" if spec.backend == "cpu" else "no address-space cap"
    return f"{network}; {memory}; process-group kill on timeout"
