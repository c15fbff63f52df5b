"""Making unwritten output memory look wrong, so a kernel that skips its stores cannot pass by luck.

On the CPU, glibc's perturb option fills every fresh allocation with 0x7F bytes (3.4e38 as float32, NaN as
float16); the mmap threshold is raised so mid-sized tensors come from the heap instead of zeroed pages.
On CUDA, blocks of each output's size are filled with NaN and freed, so the caching allocator hands them to
the candidate's `torch.empty`.  Perturbation costs a memset per allocation, so it is off while profiling.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import torch

_M_MMAP_THRESHOLD = -3
_M_PERTURB = -6
_PERTURB_BYTE = 0x80
_MAX_HEAP_THRESHOLD = 32 * 1024 * 1024


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None)
    except OSError:
        return None


def set_cpu_poisoning(enabled: bool) -> bool:
    """Return whether glibc accepted the setting (False on a libc without mallopt)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    libc.mallopt(_M_MMAP_THRESHOLD, _MAX_HEAP_THRESHOLD)
    return bool(libc.mallopt(_M_PERTURB, _PERTURB_BYTE if enabled else 0))


def poison_cuda_cache(specs: list[tuple[torch.Size, torch.dtype]], device: torch.device) -> None:
    """Leave NaN-filled blocks of each output's size in the caching allocator for `torch.empty` to reuse."""
    if device.type != "cuda":
        return
    for shape, dtype in specs:
        if dtype.is_floating_point:
            block = torch.empty(shape, dtype=dtype, device=device)
            block.fill_(float("nan"))
            del block
    torch.cuda.synchronize()
