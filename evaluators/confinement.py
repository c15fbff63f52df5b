"""What a runner process gives up right after the zygote forks it, before any untrusted code runs.

In order: its CPU set and thread count (the same for candidate and reference, so extra threads buy
nothing), hard rlimits (address space, file size, CPU seconds: soft = hard, so they cannot be raised),
its own uid (candidate, reference and builder each get a different one, so none can signal, trace or
read another), no_new_privs, and a seccomp filter.  The filter refuses new sockets, tracing, mounts,
namespace changes, affinity changes, signals to any process but itself, leaving its process group, and
(on the CPU backend) creating processes or exec'ing: a candidate then has exactly one process, which the
judge can stop and start as a whole.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import struct
from dataclasses import dataclass

CANDIDATE_UID = 65534
REFERENCE_UID = 65533
BUILDER_UID = 65532
CLONE_THREAD = 0x00010000
SETUP_FAILED = 71
"""Exit status of a runner that could not be confined (our failure)."""
HOSTED_RAISED = 70
"""Exit status of a runner whose hosted code raised its way out (SystemExit and the like: the candidate's)."""

_ALWAYS_DENIED = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "ptrace", "process_vm_readv",
    "process_vm_writev", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "sched_setaffinity",
    "setsid", "setpgid", "kexec_load", "kexec_file_load", "bpf", "perf_event_open", "keyctl", "add_key",
    "request_key", "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "kcmp",
    "name_to_handle_at", "open_by_handle_at", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "tkill",
)
_PROCESS_CREATION = ("fork", "vfork", "execve", "execveat")


@dataclass(frozen=True, slots=True)
class Confinement:
    uid: int
    cpus: tuple[int, ...]
    threads: int
    address_space_bytes: int
    file_size_bytes: int
    cpu_seconds: int
    max_processes: int
    allow_processes: bool
    seccomp: bool = True
    allow_process_groups: bool = False
    """Only the builder (no candidate code): ninja puts each compiler in a process group of its own."""
    open_cuda: bool = False
    """Make the CUDA context before giving anything up: the driver's first initialization fails under the
    runner's uid and filter ("cudaGetDeviceCount ... Error 304: OS call failed"), its later calls do not."""

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict) -> Confinement:
        return cls(**{**data, "cpus": tuple(data["cpus"])})


def apply(confinement: Confinement) -> None:
    import torch

    if confinement.open_cuda:
        torch.zeros(1, device="cuda")
        torch.cuda.synchronize()
    if confinement.cpus:
        os.sched_setaffinity(0, confinement.cpus)
    torch.set_num_threads(confinement.threads)
    _limit(resource.RLIMIT_CORE, 0)
    if confinement.address_space_bytes:
        _limit(resource.RLIMIT_AS, confinement.address_space_bytes)
    if confinement.file_size_bytes:
        _limit(resource.RLIMIT_FSIZE, confinement.file_size_bytes)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _limit(resource.RLIMIT_CPU, int(usage.ru_utime + usage.ru_stime) + confinement.cpu_seconds)
    if confinement.max_processes:
        _limit(resource.RLIMIT_NPROC, confinement.max_processes)
    if os.geteuid() == 0 and confinement.uid:
        os.setgroups([])
        os.setresgid(confinement.uid, confinement.uid, confinement.uid)
        os.setresuid(confinement.uid, confinement.uid, confinement.uid)
    _no_new_privileges()
    if confinement.seccomp:
        install_filter(confinement.allow_processes, confinement.allow_process_groups)


def _limit(kind: int, value: int) -> None:
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


_LIBC = ctypes.CDLL(None, use_errno=True)
"""Opened once, in the zygote: a runner that opened it again paid a few tenths of a millisecond each time."""


def _no_new_privileges() -> None:
    if _LIBC.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def seccomp_available() -> bool:
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


PID_PLACEHOLDER = 0x3A5EC0DE
"""Stands for the runner's pid in the filters the zygote builds before it forks (no real pid is this large)."""
_PREBUILT: dict[tuple[bool, bool], bytes] = {}
_BPF_JMP, _BPF_K, _BPF_INSN = 0x05, 0x00, struct.Struct("<HBBI")


def prebuild_filters() -> None:
    """In the zygote, before any fork: each filter compiled once to BPF with a placeholder for the pid, so a
    runner only writes its pid in and loads it (compiling took every runner about 2 ms of CPU)."""
    for allow_processes in (False, True):
        for allow_process_groups in (False, True):
            _PREBUILT[(allow_processes, allow_process_groups)] = _compiled(
                _built(allow_processes, allow_process_groups, PID_PLACEHOLDER))


def install_filter(allow_processes: bool, allow_process_groups: bool = False) -> None:
    program = _PREBUILT.get((allow_processes, allow_process_groups))
    if program is None:
        _built(allow_processes, allow_process_groups, os.getpid()).load()
        return
    _load_bpf(with_pid(program, os.getpid()))


def with_pid(program: bytes, pid: int) -> bytes:
    """The prebuilt program with the placeholder in every constant jump replaced by `pid`."""
    out = bytearray(program)
    replaced = 0
    for offset in range(0, len(out), _BPF_INSN.size):
        code, jt, jf, k = _BPF_INSN.unpack_from(out, offset)
        if code & 0x07 == _BPF_JMP and code & 0x08 == _BPF_K and k == PID_PLACEHOLDER:
            _BPF_INSN.pack_into(out, offset, code, jt, jf, pid)
            replaced += 1
    if replaced == 0:
        raise RuntimeError("the prebuilt seccomp filter has no pid to fill in")
    return bytes(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_bpf(program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // _BPF_INSN.size, ctypes.cast(buffer, ctypes.c_void_p))
    if _LIBC.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def _compiled(flt) -> bytes:
    fd = os.memfd_create("stark-seccomp", os.MFD_CLOEXEC)
    try:
        with os.fdopen(os.dup(fd), "wb") as handle:
            flt.export_bpf(handle)
        os.lseek(fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _built(allow_processes: bool, allow_process_groups: bool, own: int):
    import pyseccomp as sc

    denied = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(defaction=sc.ALLOW)
    for name in _ALWAYS_DENIED:
        if not (allow_process_groups and name in ("setsid", "setpgid")):
            _add(flt, denied, name)
    # Signals only to itself or its own threads (one comparison per rule, so "not own" is "below or above").
    for name in ("kill", "tgkill"):
        flt.add_rule(denied, name, sc.Arg(0, sc.LT, own))
        flt.add_rule(denied, name, sc.Arg(0, sc.GT, own))
    flt.add_rule(denied, "prlimit64", sc.Arg(0, sc.GT, own))
    if not allow_processes:
        for name in _PROCESS_CREATION:
            _add(flt, denied, name)
        flt.add_rule(denied, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
        _add(flt, sc.ERRNO(errno.ENOSYS), "clone3")  # glibc then falls back to clone, whose flags we can see
    return flt


def _add(flt, action, name: str) -> None:
    try:
        flt.add_rule(action, name)
    except (RuntimeError, ValueError, OSError):
        pass  # a syscall this architecture does not have
