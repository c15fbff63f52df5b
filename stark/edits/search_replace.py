"""SEARCH/REPLACE blocks, found and applied leniently.

Markers are recognised with three or more `<`/`=`/`>` and any case; fences around blocks are ignored.  A SEARCH
text is located by a ladder of matchers, strictest first: exact; ignoring trailing whitespace; ignoring
indentation (the replacement is re-indented by the same shift); ignoring blank lines.  Line numbers copied
from a numbered listing (`  12| `) are stripped first.  Only a unique match inside an EVOLVE-BLOCK region
applies; a miss names the closest lines so the model can see what it got wrong.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from stark.edits.errors import EditError
from stark.edits.regions import evolvable_spans, line_starts, within

_SEARCH = re.compile(r"^\s*<{3,}\s*SEARCH\b.*$", re.I)
_DIVIDER = re.compile(r"^\s*={3,}\s*$")
_REPLACE = re.compile(r"^\s*>{3,}\s*REPLACE\b.*$", re.I)
_NUMBERED = re.compile(r"^\s*\d+\s*\|( |$)")


@dataclass(frozen=True, slots=True)
class Block:
    search: str
    replace: str


@dataclass(frozen=True, slots=True)
class Parsed:
    blocks: tuple[Block, ...]
    unterminated: bool = False
    """A block was opened but never closed: the reply was probably cut off."""


def parse(text: str) -> Parsed:
    blocks, search, replace, state = [], [], [], "out"
    for line in text.splitlines():
        if _SEARCH.match(line):
            search, replace, state = [], [], "search"
        elif state == "search" and _DIVIDER.match(line):
            state = "replace"
        elif state == "replace" and _REPLACE.match(line):
            blocks.append(Block(_strip_numbers("\n".join(search)), _strip_numbers("\n".join(replace))))
            state = "out"
        elif state == "search":
            search.append(line)
        elif state == "replace":
            replace.append(line)
    return Parsed(tuple(blocks), unterminated=state != "out")


def _strip_numbers(text: str) -> str:
    lines = text.split("\n")
    filled = [line for line in lines if line.strip()]
    if filled and all(_NUMBERED.match(line) for line in filled):
        return "\n".join(_NUMBERED.sub("", line, count=1) for line in lines)
    return text


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(replace: str, found_first: str, search_first: str) -> str:
    """Shift the replacement by how far the matched text's indentation differs from the SEARCH text's."""
    have, want = _indent(search_first), _indent(found_first)
    if have == want:
        return replace
    out = []
    for line in replace.split("\n"):
        if not line.strip():
            out.append(line)
        elif line.startswith(have):
            out.append(want + line[len(have):])
        else:
            out.append(want + line.lstrip())
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    replace: str


def _line_matches(source: str, search: str, replace: str, key) -> list[Match]:
    """Runs of whole source lines equal to the SEARCH lines under `key` (blank lines skipped when key says so)."""
    lines = source.splitlines()
    starts = line_starts(source)
    wanted = [key(line) for line in search.split("\n")]
    skip_blank = key is _no_blank
    if skip_blank:
        wanted = [w for w in wanted if w]
    if not wanted or not any(wanted):
        return []
    matches = []
    for first in range(len(lines)):
        i, j, matched_first = first, 0, None
        while j < len(wanted) and i < len(lines):
            if skip_blank and not lines[i].strip():
                i += 1
                continue
            if key(lines[i]) != wanted[j]:
                break
            matched_first = matched_first if matched_first is not None else i
            i, j = i + 1, j + 1
        if j == len(wanted) and matched_first == first:
            end = starts[i] if i < len(lines) else len(source)
            text_end = end - 1 if end > 0 and source[end - 1] == "\n" and not search.endswith("\n") else end
            search_first = next(line for line in search.split("\n") if line.strip())
            new = _reindent(replace, lines[first], search_first)
            matches.append(Match(starts[first], text_end, new))
    return matches


def _rstrip(line: str) -> str:
    return line.rstrip()


def _strip(line: str) -> str:
    return line.strip()


def _no_blank(line: str) -> str:
    return " ".join(line.split())


LADDER = (("trailing whitespace", _rstrip), ("indentation", _strip), ("blank lines and spacing", _no_blank))


def locate(source: str, search: str, replace: str, strict: bool = False) -> tuple[list[Match], list[Match]]:
    """(all matches, matches inside the evolvable regions) by the first matcher on the ladder that finds any."""
    spans = evolvable_spans(source)

    def inside(matches: list[Match]) -> list[Match]:
        return [m for m in matches if within(spans, m.start, m.end)]

    exact = [Match(m.start(), m.start() + len(search), replace) for m in re.finditer(re.escape(search), source)]
    if exact or strict:
        return exact, inside(exact)
    for _name, key in LADDER:
        found = _line_matches(source, search, replace, key)
        if found:
            return found, inside(found)
    return [], []


def closest(source: str, search: str) -> str:
    """Where the SEARCH text comes nearest, and the first line that differs, for the error message."""
    lines, wanted = source.splitlines(), search.strip("\n").split("\n")
    best, best_ratio = 0, -1.0
    for first in range(max(1, len(lines) - len(wanted) + 1)):
        window = lines[first:first + len(wanted)]
        ratio = difflib.SequenceMatcher(None, "\n".join(w.strip() for w in window),
                                        "\n".join(w.strip() for w in wanted)).ratio()
        if ratio > best_ratio:
            best, best_ratio = first, ratio
    for offset, want in enumerate(wanted):
        have = lines[best + offset] if best + offset < len(lines) else ""
        if have.strip() != want.strip():
            return (f"closest is line {best + 1} ({best_ratio:.0%} alike); line {best + offset + 1} reads "
                    f"{have.strip()[:80]!r}, the SEARCH text has {want.strip()[:80]!r}")
    return f"closest is line {best + 1}"


def apply_blocks(source: str, blocks: tuple[Block, ...], strict: bool = False) -> str:
    if not blocks:
        raise EditError("no SEARCH/REPLACE block found")
    blocks = tuple(dict.fromkeys(blocks))        # the same edit written twice (small models do) is one edit
    for number, block in enumerate(blocks, start=1):
        if not block.search.strip():
            raise EditError(f"SEARCH block {number} is empty")
        found, inside = locate(source, block.search, block.replace, strict)
        if not found:
            raise EditError(f"SEARCH block {number} does not match the program text: {closest(source, block.search)}")
        if not inside:
            raise EditError(f"SEARCH block {number} lies outside the EVOLVE-BLOCK regions")
        if len(inside) > 1:
            raise EditError(f"SEARCH block {number} matches {len(inside)} places; include more context")
        hit = inside[0]
        source = source[:hit.start] + hit.replace + source[hit.end:]
    return source
