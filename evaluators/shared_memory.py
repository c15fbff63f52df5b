"""Tensors in shared memory: how the judge hands a runner its inputs and reads its outputs back.

A region is an anonymous memfd the judge creates and passes to one runner process over its socket, so no
path names it and no other process can open it.  Nothing from a runner is ever unpickled: the judge reads
the bytes at offsets it chose itself, as the shapes and dtypes it chose itself.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass

import torch

ALIGNMENT = 64


@dataclass(frozen=True, slots=True)
class TensorSlot:
    shape: tuple[int, ...]
    dtype: str
    offset: int
    nbytes: int


@dataclass(frozen=True, slots=True)
class Layout:
    slots: tuple[TensorSlot, ...]
    size: int

    @classmethod
    def of(cls, specs: list[tuple[tuple[int, ...], str]]) -> Layout:
        slots, offset = [], 0
        for shape, dtype in specs:
            nbytes = _numel(shape) * torch.empty((), dtype=dtype_of(dtype)).element_size()
            slots.append(TensorSlot(tuple(int(s) for s in shape), dtype, offset, nbytes))
            offset += -(-nbytes // ALIGNMENT) * ALIGNMENT
        return cls(tuple(slots), max(offset, ALIGNMENT))

    def to_dict(self) -> dict:
        return {"size": self.size, "slots": [[list(s.shape), s.dtype, s.offset, s.nbytes] for s in self.slots]}

    @classmethod
    def from_dict(cls, data: dict) -> Layout:
        return cls(tuple(TensorSlot(tuple(shape), dtype, offset, nbytes)
                         for shape, dtype, offset, nbytes in data["slots"]), int(data["size"]))


def slot_views(flat: torch.Tensor, layout: Layout) -> list[torch.Tensor]:
    """A flat byte tensor (a device buffer) viewed as the layout's tensors, sharing its memory.  (Shared-memory
    regions make a fresh storage per view instead: see SharedRegion.fresh_views.)"""
    return [flat[slot.offset:slot.offset + slot.nbytes].view(dtype_of(slot.dtype)).view(slot.shape) if slot.nbytes
            else torch.empty(slot.shape, dtype=dtype_of(slot.dtype), device=flat.device) for slot in layout.slots]


def dtype_of(name: str) -> torch.dtype:
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"not a torch dtype: {name!r}")
    return dtype


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _numel(shape: tuple[int, ...]) -> int:
    count = 1
    for size in shape:
        count *= int(size)
    return count


class SharedRegion:
    """One memfd mapped into this process, viewed as the tensors of its layout."""

    def __init__(self, layout: Layout, fd: int | None = None):
        self.layout = layout
        if fd is None:
            fd = os.memfd_create("stark-region", os.MFD_CLOEXEC)
            os.ftruncate(fd, layout.size)
        self.fd = fd
        self.map = mmap.mmap(fd, layout.size)
        self.tensors = [self._view(slot) for slot in layout.slots]
        self.raw = torch.frombuffer(self.map, dtype=torch.uint8)

    def _view(self, slot: TensorSlot) -> torch.Tensor:
        dtype = dtype_of(slot.dtype)
        if slot.nbytes == 0:
            return torch.empty(slot.shape, dtype=dtype)
        flat = torch.frombuffer(self.map, dtype=dtype, count=_numel(slot.shape), offset=slot.offset)
        return flat.view(slot.shape)

    def fresh_views(self) -> list[torch.Tensor]:
        return [self._view(slot) for slot in self.layout.slots]

    def fill(self, byte: int) -> None:
        self.raw.fill_(byte)

    def close(self) -> None:
        self.tensors = []
        self.raw = None
        try:
            self.map.close()
        except BufferError:
            pass  # a view is still alive somewhere; the mapping goes with the process
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class RegionPool:
    """Regions a finished job handed back, for the next job's runner of the same role to reuse.

    A new memfd is zero pages until first touched: every job paid for faulting in each region it made (a
    tenth of a trivial candidate's judging).  Reuse is safe because a region only ever goes back to a runner
    of the role it served (a candidate's region to the next candidate, whose predecessor is dead), every input
    is written and every output poisoned before each call, and nothing a runner left there is read before that.
    """

    def __init__(self, keep_bytes: int = 256 * 2**20):
        self.keep_bytes = keep_bytes
        self.free: dict[tuple[str, Layout], list[SharedRegion]] = {}

    def take(self, role: str, layout: Layout) -> SharedRegion:
        regions = self.free.get((role, layout))
        if not regions:
            return SharedRegion(layout)
        region = regions.pop()
        if not regions:
            del self.free[(role, layout)]
        return region

    def give(self, role: str, region: SharedRegion) -> None:
        key = (role, region.layout)
        self.free[key] = [*self.free.pop(key, []), region]     # to the end: the most recently given back
        self._trim()

    def _trim(self) -> None:
        """Past the byte budget, the layouts given back longest ago go first (dicts keep insertion order)."""
        held = sum(region.layout.size for regions in self.free.values() for region in regions)
        for key in list(self.free):
            if held <= self.keep_bytes:
                break
            for region in self.free.pop(key):
                held -= region.layout.size
                region.close()

    def close(self) -> None:
        for regions in self.free.values():
            for region in regions:
                region.close()
        self.free = {}
