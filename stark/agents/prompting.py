"""Prompt assembly under a role's context budget, counted in the endpoint's own tokens.

Sections come in priority order.  A required section (the program being changed) is never cut: when it and
the reply cannot both fit, the call is refused with a line saying so, instead of sending a prompt that the
server truncates.  Optional sections may carry a share cap, so a long problem source (a simulator, say)
cannot crowd out the inspirations behind it; what does not fit is trimmed at a line, then dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from stark.agents.framing import KERNEL_FRAMING, TaskFraming, render
from stark.agents.records import ProgramView

TRIM_NOTE = "\n[... trimmed to fit the context budget]\n"


class PromptTooLarge(ValueError):
    """The context cannot hold the required sections and the reply; a config problem, said in one line."""


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    body: str
    required: bool = False
    share: float = 1.0
    """The most of the optional budget this section may take (0..1)."""


def template(role: str, framing: TaskFraming = KERNEL_FRAMING, path: str = "") -> str:
    """The role's system prompt: the shipped one, or the user's file named in the config."""
    text = Path(path).read_text() if path else resources.files("stark").joinpath("prompts", f"{role}.md").read_text()
    return render(text, framing)


def numbered(source: str) -> str:
    return "\n".join(f"{i:4d}| {line}" for i, line in enumerate(source.splitlines(), start=1))


def describe(view: ProgramView) -> str:
    verdict = "correct" if view.correct else "incorrect"
    return f"program #{view.id} ({verdict}, {view.score_label.format(view.score)}) {view.outcome}".strip()


def distinct_inspirations(parent: ProgramView, inspirations: tuple[ProgramView, ...]) -> list[ProgramView]:
    """Inspirations with a source unlike the parent's and each other's: the same text twice teaches nothing."""
    seen, out = {parent.source.strip()}, []
    for view in inspirations:
        key = view.source.strip()
        if key not in seen:
            seen.add(key)
            out.append(view)
    return out


def _block(title: str, body: str) -> str:
    return f"## {title}\n{body.strip()}\n"


def _trim(text: str, budget: int, count: Callable[[str], int]) -> str:
    """The longest prefix of whole lines that fits `budget` tokens (with the trim note), by bisection."""
    lines = text.splitlines(keepends=True)
    low, high = 0, len(lines)
    while low < high:
        middle = (low + high + 1) // 2
        if count("".join(lines[:middle]) + TRIM_NOTE) <= budget:
            low = middle
        else:
            high = middle - 1
    return "".join(lines[:low]) + TRIM_NOTE if low else ""


def fit(sections: list[Section], budget_tokens: int, count: Callable[[str], int], what: str = "") -> str:
    required = [s for s in sections if s.required]
    needed = sum(count(_block(s.title, s.body)) for s in required)
    if needed > budget_tokens:
        raise PromptTooLarge(f"the {what or 'prompt'} needs {needed} tokens for "
                             f"{' and '.join(s.title.lower() for s in required)} but only {budget_tokens} are left "
                             f"after the system prompt and max_output_tokens; raise context_tokens or lower "
                             f"max_output_tokens")
    left = budget_tokens - needed
    optional_budget = left
    out = []
    for section in sections:
        block = _block(section.title, section.body)
        if section.required:
            out.append(block)
            continue
        allowed = min(left, int(optional_budget * section.share))
        size = count(block)
        if size <= allowed:
            out.append(block)
            left -= size
        elif allowed > 64:
            trimmed = _trim(block, allowed, count)
            if trimmed:
                out.append(trimmed)
                left -= count(trimmed)
    return "\n".join(out)
