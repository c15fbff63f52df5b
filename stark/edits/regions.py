"""Where a program may change: the text between `EVOLVE-BLOCK-START` and `EVOLVE-BLOCK-END` marker lines.

A file without markers is evolvable as a whole.  Everything outside the regions (imports, the interface the
evaluator relies on) must stay byte-identical in every child.
"""

from __future__ import annotations

import difflib

from stark.edits.errors import EditError

START, END = "EVOLVE-BLOCK-START", "EVOLVE-BLOCK-END"


def evolvable_spans(source: str) -> list[tuple[int, int]]:
    """Character ranges that may change; the whole file when there are no markers."""
    spans, start = [], None
    offset = 0
    for line in source.splitlines(keepends=True):
        if START in line:
            if start is not None:
                raise EditError(f"nested {START} marker")
            start = offset + len(line)
        elif END in line:
            if start is None:
                raise EditError(f"{END} without {START}")
            spans.append((start, offset))
            start = None
        offset += len(line)
    if start is not None:
        raise EditError(f"{START} without {END}")
    return spans or [(0, len(source))]


def has_markers(source: str) -> bool:
    return START in source or END in source


def frozen_parts(source: str) -> list[str]:
    """The text outside the evolvable spans, in order."""
    parts, position = [], 0
    for start, end in evolvable_spans(source):
        parts.append(source[position:start])
        position = end
    parts.append(source[position:])
    return parts


def regions(source: str) -> list[str]:
    return [source[start:end] for start, end in evolvable_spans(source)]


def splice(parent: str, new_regions: list[str]) -> str:
    """The parent's frame with its regions replaced, in order."""
    frame = frozen_parts(parent)
    if len(new_regions) != len(frame) - 1:
        raise EditError(f"the rewrite has {len(new_regions)} EVOLVE-BLOCK regions; the program has {len(frame) - 1}")
    out = [frame[0]]
    for region, after in zip(new_regions, frame[1:]):
        out.append(region if not region or region.endswith("\n") else region + "\n")
        out.append(after)
    return "".join(out)


def within(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Does the text from `start` to `end` lie inside one evolvable span?"""
    return any(s <= start and end <= e for s, e in spans)


def line_starts(source: str) -> list[int]:
    """The offset where each line starts, then the length of the source (so line n spans starts[n-1:n+1])."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def changeable_lines(source: str) -> set[int]:
    """Numbers (from 1) of the lines that start inside an evolvable region."""
    spans = evolvable_spans(source)
    return {number for number, offset in enumerate(line_starts(source)[:-1], start=1)
            if any(s <= offset < e for s, e in spans)}


def unified_diff(parent: str, child: str) -> str:
    return "".join(difflib.unified_diff(parent.splitlines(keepends=True), child.splitlines(keepends=True),
                                        "parent", "child", n=2))
