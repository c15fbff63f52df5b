"""Unified diffs as a model writes them: hunks become SEARCH/REPLACE blocks, so hunk headers may be wrong.

Models get `@@ -a,b +c,d @@` counts wrong far more often than they get the context lines wrong, so the
header is read only as a hunk boundary; the context and `-` lines must still be found in the program (by
the same lenient matcher as SEARCH text).  A context line whose leading space was lost (an empty line, or
an editor that trimmed it) still counts as context.
"""

from __future__ import annotations

import re

from stark.edits.search_replace import Block

_HUNK = re.compile(r"^@@.*@@")
_FILE = re.compile(r"^(---|\+\+\+)\s")


def looks_like_diff(text: str) -> bool:
    return any(_HUNK.match(line) for line in text.splitlines())


def parse(text: str) -> tuple[Block, ...]:
    blocks: list[Block] = []
    search: list[str] | None = None
    replace: list[str] = []

    def close() -> None:
        if search is not None and (search != replace):
            while search and replace and not search[-1].strip() and not replace[-1].strip():
                search.pop(), replace.pop()
            blocks.append(Block("\n".join(search), "\n".join(replace)))

    for line in text.splitlines():
        if _HUNK.match(line):
            close()
            search, replace = [], []
        elif search is None or _FILE.match(line):
            continue
        elif line.startswith("```"):
            close()
            search, replace = None, []
        elif line.startswith("-"):
            search.append(line[1:])
        elif line.startswith("+"):
            replace.append(line[1:])
        elif line.startswith("\\"):
            continue                                   # "\ No newline at end of file"
        else:
            context = line[1:] if line.startswith(" ") else line
            search.append(context)
            replace.append(context)
    close()
    return tuple(blocks)
