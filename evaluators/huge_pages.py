"""The zygote's heap on huge pages, so forking a runner and tearing it down cost a fraction of what they did.

After importing torch the zygote holds ~230 MB of anonymous memory in 4 KiB pages: every fork copies a page-table
entry for each (the kernel's `copy_page_range`) and every runner's exit unmaps each (`unmap_page_range`), which
`perf` put at a fifth of the judge's CPU.  Collapsed into 2 MiB pages (`MADV_COLLAPSE`, Linux 6.1+) there are
512 times fewer: on this machine a fork and exit of the zygote went from 11.5 ms (parent) + 14.9 ms (child) to
2.3 + 4.8 ms.  A runner that writes into a huge page still copies only the 4 KiB it touched (the kernel splits
the mapping on copy-on-write).  Where the kernel or the sandbox refuses, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util

MADV_HUGEPAGE = 14
MADV_COLLAPSE = 25
HUGE = 2 * 1024 * 1024
NOT_HEAP = ("[stack]", "[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]")


def heap_ranges(maps: str) -> list[tuple[int, int]]:
    """The 2 MiB-aligned parts of private writable anonymous mappings (and the brk heap), from /proc/self/maps."""
    ranges = []
    for line in maps.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        low, high = (int(part, 16) for part in fields[0].split("-"))
        name = fields[5] if len(fields) > 5 else ""
        if not fields[1].startswith("rw") or fields[1][3] != "p" or name in NOT_HEAP:
            continue
        if name and not name.startswith("[anon") and name != "[heap]":
            continue
        start, end = -(-low // HUGE) * HUGE, high // HUGE * HUGE
        if end - start >= HUGE:
            ranges.append((start, end))
    return ranges


def collapse_heap() -> int:
    """Bytes now backed by huge pages (0 where the kernel has no MADV_COLLAPSE or THP is off)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        with open("/proc/self/maps") as maps:
            ranges = heap_ranges(maps.read())
    except OSError:
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    collapsed = 0
    for start, end in ranges:
        libc.madvise(start, end - start, MADV_HUGEPAGE)     # later growth of the range may use huge pages too
        if libc.madvise(start, end - start, MADV_COLLAPSE) == 0:
            collapsed += end - start
    return collapsed
