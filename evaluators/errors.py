"""Turning what a hosted module raised into a failure kind."""

from __future__ import annotations

import errno
import socket

from evaluators.compare import CandidateFailure
from evaluators.records import FailureKind

SANDBOX_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH,
                  errno.EAGAIN, errno.EFBIG, errno.ECONNREFUSED, errno.ENOSYS}


def memory_limit() -> str:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return "none set" if soft == resource.RLIM_INFINITY else f"{soft / 2**30:.1f} GiB of address space"


def classify_exception(exc: BaseException) -> CandidateFailure:
    from evaluators.forbidden import ForbiddenOpCalled

    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    if isinstance(exc, CandidateFailure):
        return exc
    if isinstance(exc, ForbiddenOpCalled) or "forbiddenopcalled" in lowered:
        return CandidateFailure(FailureKind.FORBIDDEN_OP, str(exc).splitlines()[-1] if str(exc) else text)
    if isinstance(exc, socket.gaierror) or (isinstance(exc, OSError) and exc.errno in SANDBOX_ERRNOS) \
            or "not allowed to raise maximum limit" in lowered:
        return CandidateFailure(FailureKind.SANDBOX_VIOLATION, f"blocked by the sandbox: {text}")
    if isinstance(exc, MemoryError) or any(words in lowered for words in (
            "out of memory", "can't allocate memory", "cannot allocate memory", "not enough memory")):
        return CandidateFailure(FailureKind.OUT_OF_MEMORY, text if str(exc) else f"{type(exc).__name__} with no "
                                f"message: an allocation failed under the process's memory limit ({memory_limit()})")
    if "cuda error" in lowered or "illegal memory access" in lowered or type(exc).__name__ == "AcceleratorError":
        return CandidateFailure(FailureKind.CUDA_ERROR, text)
    return CandidateFailure(FailureKind.RUNTIME_ERROR, text)


def where_raised(exc: BaseException, filename: str) -> str:
    """` (at candidate.py:12: return x @ w)`: the innermost line of `filename` the exception passed through."""
    import traceback

    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(filename):
            return f" (at {filename}:{frame.lineno}: {(frame.line or '').strip()[:120]})"
    return ""


def problem_error(exc: BaseException, filename: str) -> str:
    """An exception raised by a problem's own code (its file is `filename`), as one line a user can act on:
    type, message, the problem file's line that raised it, and for a missing module the install that fixes it."""
    first = next((line for line in str(exc).splitlines() if line.strip()), "") or "(no message)"
    hint = f"; install it (pip install {exc.name})" if isinstance(exc, ModuleNotFoundError) and exc.name else ""
    return f"{type(exc).__name__}: {first}{where_raised(exc, filename)}{hint}"
