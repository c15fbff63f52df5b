"""The zygote's heap collapsed into huge pages: which mappings are taken, and that the kernel really did it."""

import subprocess
import sys

import pytest

from evaluators.huge_pages import HUGE, heap_ranges

MAPS = """\
00400000-00421000 r--p 00000000 08:01 123  /usr/bin/python3.11
55d000000000-55d000a00000 rw-p 00000000 00:00 0  [heap]
7f0000000000-7f0000500000 rw-p 00000000 00:00 0
7f0000600000-7f0000700000 rw-p 00000000 00:00 0
7f0001000000-7f0001800000 rw-s 00000000 00:01 77  /dev/shm/stark-region
7f0002000000-7f0002800000 rw-p 00000000 08:01 456  /usr/lib/libtorch_cpu.so
7f0003000000-7f0003400000 r-xp 00000000 00:00 0
7f0004100000-7f0004700000 rw-p 00000000 00:00 0  [anon:glibc malloc]
7ffc00000000-7ffc00400000 rw-p 00000000 00:00 0  [stack]
"""


def test_only_private_writable_anonymous_memory_whole_huge_pages_of_it():
    assert heap_ranges(MAPS) == [
        (0x55D000000000, 0x55D000A00000),                       # the brk heap, 10 MiB, aligned
        (0x7F0000000000, 0x7F0000400000),                       # 5 MiB anonymous: its two whole huge pages
        (0x7F0004200000, 0x7F0004600000),                       # a named anonymous mapping, trimmed both ends
    ]
    # (the 1 MiB one at 7f0000600000 is too small to hold a huge page)


COLLAPSE = """
import re
from evaluators.huge_pages import collapse_heap
data = bytearray(b"x" * (64 << 20))
collapsed = collapse_heap()
rollup = open("/proc/self/smaps_rollup").read()
print(collapsed, int(re.search(r"AnonHugePages:\\s+(\\d+) kB", rollup).group(1)) * 1024)
"""


def test_what_collapse_reports_is_what_the_kernel_shows():
    out = subprocess.run([sys.executable, "-c", COLLAPSE], capture_output=True, text=True, timeout=60, check=True)
    collapsed, huge = (int(v) for v in out.stdout.split())
    if collapsed == 0:
        pytest.skip("this kernel collapses nothing (no MADV_COLLAPSE, or transparent huge pages off)")
    assert collapsed >= (64 << 20) - 2 * HUGE     # the 64 MiB buffer at least
    assert huge >= collapsed * 0.9, (huge, collapsed)
