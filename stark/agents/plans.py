"""Reading a planner's reply as real models write it, and repairing what can be repaired before a coder call.

Headers come in any case and in markdown (`**Strategy:**`, `### Instructions`); citations as `[L12-L14]`,
`L12-14`, `lines 12-14` or `line 12`, all normalised to `[L12-L14]`.  A plan that cites nothing is grounded
by the program's own names it mentions (the lines where they are defined or assigned in the evolvable
region); a plan that mentions nothing of the program is rejected, so no coder call is spent on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stark.edits.regions import changeable_lines

_STRATEGY = re.compile(r"^[\s#*_>-]*strategy[\s*_]*[:\-—]\s*[*_]*\s*(.*)$", re.I | re.M)
_INSTRUCTIONS = re.compile(r"^[\s#*_>-]*instructions?[\s*_]*:?[\s*_]*$|^[\s#*_>-]*instructions?[\s*_]*:", re.I | re.M)
_CITATION = re.compile(r"\[?\b(?:L|lines?\s+)(\d+)(?:\s*(?:-|–|to)\s*L?(\d+))?\]?", re.I)
_NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{2,}\b")
_DEFINED = re.compile(r"\s*(?:def|class)\s+(\w+)|\s*(\w+)\s*(?::[^=]*)?=(?!=)")


@dataclass(frozen=True, slots=True)
class ReadPlan:
    strategy: str
    instructions: str
    problem: str = ""
    """Why the plan is rejected; empty when it can go to the coder."""
    repaired: str = ""
    """What was fixed on the way (shown in the log, not an error)."""


def _normalise_citations(text: str) -> tuple[str, list[tuple[int, int]]]:
    refs: list[tuple[int, int]] = []

    def cite(match: re.Match) -> str:
        a, b = int(match.group(1)), int(match.group(2) or match.group(1))
        refs.append((a, b))
        return f"[L{a}-L{b}]" if b != a else f"[L{a}]"
    return _CITATION.sub(cite, text), refs


def _definition_lines(source: str) -> dict[str, list[int]]:
    """Names assigned or defined at the start of a line inside the evolvable regions, with their line numbers."""
    where: dict[str, list[int]] = {}
    changeable = changeable_lines(source)
    for number, line in enumerate(source.splitlines(), start=1):
        if number in changeable and (match := _DEFINED.match(line)):
            where.setdefault(match.group(1) or match.group(2), []).append(number)
    return where


def read_plan(text: str, source: str) -> ReadPlan:
    lines = len(source.splitlines())
    match = _STRATEGY.search(text)
    strategy = match.group(1).strip(" *_`\"'") if match else ""
    header = _INSTRUCTIONS.search(text)
    if header:
        body = text[header.end():]
    else:
        body = (text[:match.start()] + text[match.end():]) if match else text
    body = body.strip()
    if not strategy:
        first = next((line.strip(" -*#`") for line in body.splitlines() if line.strip(" -*#`")), "")
        strategy = first[:80]
    strategy = strategy[:200] or "unnamed"
    if not body:
        return ReadPlan(strategy, "", "plan rejected: no instructions")
    body, refs = _normalise_citations(body)
    outside = [f"L{a}-L{b}" for a, b in refs if not 1 <= a <= b <= lines]
    if outside:
        return ReadPlan(strategy, body, f"plan rejected: cites lines outside the program ({', '.join(outside[:3])}; "
                                        f"it has {lines})")
    if refs:
        return ReadPlan(strategy, body)
    defined = _definition_lines(source)
    mentioned = [name for name in dict.fromkeys(_NAME.findall(body)) if name in defined]
    if not mentioned:
        return ReadPlan(strategy, body, "plan rejected: no [L..] citations and it names nothing in the program")
    grounded = [f"- [L{defined[name][0]}] {name}" for name in mentioned[:5]]
    return ReadPlan(strategy, body + "\nGrounded by the names it mentions:\n" + "\n".join(grounded),
                    repaired=f"cited lines added for {', '.join(mentioned[:5])}")


def quote_cited_lines(instructions: str, source: str, limit: int = 60) -> str:
    """The lines a plan cites, quoted under it, so the coder sees them without a second, numbered copy."""
    lines = source.splitlines()
    _, refs = _normalise_citations(instructions)
    wanted: list[int] = []
    for a, b in refs:
        wanted += [n for n in range(a, min(b, len(lines)) + 1) if n not in wanted]
    if not wanted:
        return ""
    wanted = sorted(wanted)[:limit]
    return "\n".join(f"L{n}: {lines[n - 1]}" for n in wanted)
