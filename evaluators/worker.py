"""The worker process: imports torch once, then evaluates candidates one request at a time.

Started by `evaluators.process.WorkerProcess` as `python -u -m evaluators.worker FD LIMITS_JSON`.  It talks
to its parent over the inherited socket FD (so the candidate's prints on stdout/stderr cannot corrupt the
protocol) and announces each stage before starting it, so the parent can enforce per-stage deadlines
and knows which stage was running when the process died.
"""

from __future__ import annotations

import faulthandler
import gc
import hashlib
import json
import os
import platform
import resource
import signal
import sys
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

from evaluators.protocol import request_from_dict


def apply_limits(limits: dict) -> None:
    """Address-space, file-size and core-dump limits; applied before torch is imported."""
    if limits.get("address_space_bytes"):
        size = int(limits["address_space_bytes"])
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    if limits.get("file_size_bytes"):
        size = int(limits["file_size_bytes"])
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("max_processes"):
        count = int(limits["max_processes"])
        resource.setrlimit(resource.RLIMIT_NPROC, (count, count))


def limit_cpu_time(seconds: int) -> None:
    """Cap this job's CPU time on top of what the long-lived worker has already used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def environment() -> dict[str, str]:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpu": _cpu_name(), "pid": str(os.getpid())}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = str(torch.version.cuda)
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


class Worker:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.env = environment()
        self.pid = os.getpid()

    def send(self, message: dict) -> None:
        if os.getpid() != self.pid:
            os._exit(0)  # a fork of the candidate's must never speak for the worker

        sys.stdout.flush()
        sys.stderr.flush()
        self.conn.send_bytes(json.dumps(message).encode())

    def serve(self) -> None:
        self.send({"type": "ready", "environment": self.env})
        while True:
            try:
                message = json.loads(self.conn.recv_bytes())
            except EOFError:
                return
            try:
                result = self.run(request_from_dict(message["request"]))
            except Exception:
                self.send({"type": "error", "message": traceback.format_exc()})
                continue
            self.send({"type": "done", "result": result.to_dict()})

    def run(self, request):
        from evaluators import build_cache
        from evaluators.cascade import run_cascade

        import torch

        torch.set_num_threads(request.config.threads)
        limit_cpu_time(request.config.cpu_seconds_per_job)
        candidate_path = self.write_candidate(request.candidate_source)
        cache_root = Path(request.build_cache_dir or "build-cache").resolve()
        build_cache.install(cache_root)
        os.environ["TORCH_EXTENSIONS_DIR"] = self.build_dir(request, cache_root)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache_root / "inductor")
        cascade = run_cascade
        if request.problem.kind == "discovery":
            from evaluators.discovery_stages import run_discovery_cascade as cascade
        try:
            return cascade(request, str(candidate_path), self.env,
                           on_stage=lambda stage: self.send({"type": "stage", "stage": stage, "at": time.time()}))
        finally:
            gc.collect()

    @staticmethod
    def write_candidate(source: str) -> Path:
        path = Path.cwd() / f"candidate_{hashlib.sha256(source.encode()).hexdigest()[:16]}.py"
        path.write_text(source)
        return path

    @staticmethod
    def build_dir(request, cache_root: Path) -> str:
        """For `torch.utils.cpp_extension.load` (file sources): one directory per candidate source."""
        digest = hashlib.sha256(request.candidate_source.encode()).hexdigest()[:20]
        root = cache_root / "candidates" / digest
        root.mkdir(parents=True, exist_ok=True)
        return str(root)


def main(argv: list[str]) -> None:
    fd, limits = int(argv[1]), json.loads(argv[2])
    apply_limits(limits)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail with EFBIG instead of killing us
    faulthandler.enable()
    conn = Connection(fd)
    import torch  # noqa: F401  (imported once here; this is what worker reuse saves)

    Worker(conn).serve()


if __name__ == "__main__":
    main(sys.argv)
