"""Outputs (and inputs) handed over in GPU memory, so the judge's clock on a GPU stops at the kernel, not at a host
copy, and no runner of the candidate's runs while a round's inputs are put on the device.

On the CPU a runner copies its outputs into host shared memory inside the timed call, and the copy is cheap.  On
a GPU that copy (device to pageable host memory) was as long as the kernel it followed (5 ms for a 4096x4096 fp32
matrix), so its jitter swamped the kernel's time.  CUDA events cannot help across processes (an event shared by
CUDA IPC cannot record time), and events recorded in the candidate's own process are the candidate's to fake.

So each runner exports a device buffer (a CUDA IPC handle) that the judge maps; the timed call ends with the
runner's device-to-device copy of its outputs into that buffer and, in the judge's own process, the judge's copy
of the buffer into memory only the judge holds.  The clock stops when the judge's copy is complete: whatever
work made the outputs the judge holds was done inside the timed window, whichever process or stream did it.
The judge compares its snapshot with the reference's on the device (untimed).

Inputs go the other way for the same reason the CPU's go through shared memory the judge writes: each runner
exports an input buffer too, and the judge writes every round's inputs into it while the runner is stopped.  When
the runner copied them to the device itself (an untimed "load" before each timed call), its threads ran with this
round's inputs already on the device and could compute the answer before the clock started.

The CUDA driver API is reached through ctypes (libcuda comes with the driver): PyTorch's own IPC sharing keeps
reference counts in files under /dev/shm and sends pickles, neither of which the sandbox or the judge allows.
"""

from __future__ import annotations

import base64
import ctypes
from dataclasses import dataclass

import torch

from evaluators.shared_memory import Layout, slot_views

IPC_HANDLE_BYTES = 64
CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS = 1


class DeviceHandoffUnavailable(Exception):
    """CUDA IPC is not available here (driver, sandbox): the judge falls back to the host round trip."""


class _IpcHandle(ctypes.Structure):
    _fields_ = [("reserved", ctypes.c_ubyte * IPC_HANDLE_BYTES)]   # bytes, not c_char: a c_char field reads
                                                                      # as a copy cut at its first zero byte


_driver: ctypes.CDLL | None = None


def _cuda() -> ctypes.CDLL:
    global _driver
    if _driver is None:
        try:
            driver = ctypes.CDLL("libcuda.so.1")
        except OSError as exc:
            raise DeviceHandoffUnavailable(f"no CUDA driver library: {exc}") from None
        pointer, size = ctypes.c_uint64, ctypes.c_size_t
        for name, argtypes in (("cuMemGetAddressRange_v2", [ctypes.POINTER(pointer), ctypes.POINTER(size), pointer]),
                               ("cuIpcGetMemHandle", [ctypes.POINTER(_IpcHandle), pointer]),
                               ("cuIpcOpenMemHandle_v2", [ctypes.POINTER(pointer), _IpcHandle, ctypes.c_uint]),
                               ("cuIpcCloseMemHandle", [pointer]),
                               ("cuGetErrorName", [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)])):
            function = getattr(driver, name)
            function.argtypes, function.restype = argtypes, ctypes.c_int
        _driver = driver
    return _driver


def _check(status: int, what: str) -> None:
    if status != 0:
        name = ctypes.c_char_p()
        _cuda().cuGetErrorName(status, ctypes.byref(name))
        raise DeviceHandoffUnavailable(f"{what} failed: {(name.value or b'?').decode()} ({status})")


@dataclass(frozen=True, slots=True)
class ExportedBuffer:
    """What a runner tells the judge about its output buffer (JSON-safe: the handle is base64)."""
    handle: str
    offset: int
    nbytes: int

    def to_dict(self) -> dict:
        return {"handle": self.handle, "offset": self.offset, "nbytes": self.nbytes}

    @classmethod
    def from_dict(cls, data: dict) -> ExportedBuffer:
        return cls(str(data["handle"]), int(data["offset"]), int(data["nbytes"]))


def export_buffer(buffer: torch.Tensor) -> ExportedBuffer:
    """In the runner: an IPC handle for the allocation holding `buffer` (the caching allocator may have carved
    it from a larger segment, so the handle names the segment and `offset` where the buffer starts)."""
    torch.cuda.synchronize(buffer.device)     # the primary context is current on this thread from here on
    base, size = ctypes.c_uint64(), ctypes.c_size_t()
    _check(_cuda().cuMemGetAddressRange_v2(ctypes.byref(base), ctypes.byref(size), ctypes.c_uint64(buffer.data_ptr())),
           "cuMemGetAddressRange")
    handle = _IpcHandle()
    _check(_cuda().cuIpcGetMemHandle(ctypes.byref(handle), base), "cuIpcGetMemHandle")
    return ExportedBuffer(base64.b64encode(bytes(handle)).decode(),
                          buffer.data_ptr() - base.value, buffer.numel() * buffer.element_size())


class _DeviceArray:
    """A raw device pointer dressed for torch.as_tensor (no copy)."""

    def __init__(self, pointer: int, nbytes: int):
        self.__cuda_array_interface__ = {"shape": (nbytes,), "typestr": "|u1", "data": (pointer, False),
                                         "version": 2, "strides": None}


class MappedBuffer:
    """In the judge: a runner's exported buffer mapped into this process, and the judge's private snapshot."""

    def __init__(self, exported: ExportedBuffer, device: torch.device, layout: Layout, snapshot: bool = True):
        import binascii

        try:
            raw = base64.b64decode(exported.handle, validate=True)
        except (binascii.Error, ValueError):
            raise DeviceHandoffUnavailable("the runner sent a malformed IPC handle") from None
        if len(raw) != IPC_HANDLE_BYTES or exported.offset < 0 or exported.nbytes < 0:
            raise DeviceHandoffUnavailable("the runner sent a malformed IPC handle")
        torch.cuda.synchronize(device)
        handle = _IpcHandle.from_buffer_copy(raw)
        pointer = ctypes.c_uint64()
        _check(_cuda().cuIpcOpenMemHandle_v2(ctypes.byref(pointer), handle, CU_IPC_MEM_LAZY_ENABLE_PEER_ACCESS),
               "cuIpcOpenMemHandle")
        self.base = pointer.value
        try:
            base, size = ctypes.c_uint64(), ctypes.c_size_t()
            _check(_cuda().cuMemGetAddressRange_v2(ctypes.byref(base), ctypes.byref(size), pointer),
                   "cuMemGetAddressRange")
            if exported.offset + exported.nbytes > size.value:    # a runner naming memory beyond what it shared
                raise DeviceHandoffUnavailable("the runner's buffer is smaller than it says")
            self.shared = torch.as_tensor(_DeviceArray(self.base + exported.offset, exported.nbytes), device=device)
        except BaseException:
            self.close()
            raise
        self.snapshot = torch.empty(exported.nbytes, dtype=torch.uint8, device=device) if snapshot else None
        self.views = slot_views(self.snapshot, layout) if snapshot else []
        """The snapshot as the output tensors, compared on the device (no copy to the host)."""
        self.shared_views = [] if snapshot else slot_views(self.shared, layout)
        """Without a snapshot (a runner's input buffer): the runner's memory itself as the layout's tensors."""

    def poison(self, byte: int) -> None:
        """Fill the runner's buffer before a call, so an output the call did not write cannot pass."""
        self.shared.fill_(byte)
        torch.cuda.synchronize(self.shared.device)

    def take(self) -> None:
        """The end of a timed call: the judge's own copy of what the runner left, complete on the device.  (The
        runner synchronized before answering, so all its work is ordered before this copy.)"""
        self.snapshot.copy_(self.shared)
        torch.cuda.synchronize(self.snapshot.device)

    def close(self) -> None:
        if self.base:
            self.shared = self.snapshot = None
            self.views = self.shared_views = []
            _cuda().cuIpcCloseMemHandle(ctypes.c_uint64(self.base))
            self.base = 0
