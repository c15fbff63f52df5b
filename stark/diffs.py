"""Applying a model's edit to a program: SEARCH/REPLACE blocks or a full rewrite, inside EVOLVE-BLOCK regions.

Text between `EVOLVE-BLOCK-START` and `EVOLVE-BLOCK-END` marker lines may change; everything else (the
imports and the interface the evaluator relies on) must stay byte-identical.  A file without markers is
evolvable as a whole.  A malformed or non-applying edit raises DiffError: the model's mistake, recorded
and shown to it, never a crash.
"""

from __future__ import annotations

import difflib
import re

START, END = "EVOLVE-BLOCK-START", "EVOLVE-BLOCK-END"
_BLOCK = re.compile(r"<{5,}\s*SEARCH\s*\n(.*?)\n?={5,}\s*\n(.*?)\n?>{5,}\s*REPLACE", re.S)
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)


class DiffError(ValueError):
    pass


def evolvable_spans(source: str) -> list[tuple[int, int]]:
    """Character ranges that may change; the whole file when there are no markers."""
    spans, start = [], None
    offset = 0
    for line in source.splitlines(keepends=True):
        if START in line:
            if start is not None:
                raise DiffError(f"nested {START} marker")
            start = offset + len(line)
        elif END in line:
            if start is None:
                raise DiffError(f"{END} without {START}")
            spans.append((start, offset))
            start = None
        offset += len(line)
    if start is not None:
        raise DiffError(f"{START} without {END}")
    return spans or [(0, len(source))]


def frozen_parts(source: str) -> list[str]:
    """The text outside the evolvable spans, in order."""
    parts, position = [], 0
    for start, end in evolvable_spans(source):
        parts.append(source[position:start])
        position = end
    parts.append(source[position:])
    return parts


def parse_search_replace(text: str) -> list[tuple[str, str]]:
    return [(search, replace) for search, replace in _BLOCK.findall(text)]


def apply_search_replace(source: str, edits: list[tuple[str, str]]) -> str:
    if not edits:
        raise DiffError("no SEARCH/REPLACE block found")
    for number, (search, replace) in enumerate(edits, start=1):
        if not search.strip():
            raise DiffError(f"SEARCH block {number} is empty")
        hits = [m.start() for m in re.finditer(re.escape(search), source)]
        inside = [h for h in hits if any(s <= h and h + len(search) <= e for s, e in evolvable_spans(source))]
        if not hits:
            raise DiffError(f"SEARCH block {number} does not match the program text")
        if not inside:
            raise DiffError(f"SEARCH block {number} lies outside the EVOLVE-BLOCK regions")
        if len(inside) > 1:
            raise DiffError(f"SEARCH block {number} matches {len(inside)} places; include more context")
        source = source[:inside[0]] + replace + source[inside[0] + len(search):]
    return source


def extract_rewrite(text: str) -> str:
    blocks = _FENCE.findall(text)
    if not blocks:
        raise DiffError("no fenced ```python block with the full program found")
    return max(blocks, key=len)


def apply_edit(parent: str, response: str) -> str:
    """Apply whichever form the response used; the result keeps the parent's frozen parts intact."""
    edits = parse_search_replace(response)
    child = apply_search_replace(parent, edits) if edits else extract_rewrite(response)
    if frozen_parts(child) != frozen_parts(parent):
        raise DiffError("the edit changed code outside the EVOLVE-BLOCK regions")
    if child == parent:
        raise DiffError("the edit leaves the program unchanged")
    return child


def unified_diff(parent: str, child: str) -> str:
    return "".join(difflib.unified_diff(parent.splitlines(keepends=True), child.splitlines(keepends=True),
                                        "parent", "child", n=2))
