"""Prompt assembly under a role's context budget; templates ship as files in stark/prompts/."""

from __future__ import annotations

from importlib import resources

from stark.agents.framing import KERNEL_FRAMING, TaskFraming, render
from stark.agents.records import ProgramView

CHARS_PER_TOKEN = 4
"""A rough tokens-from-characters estimate: budgets are enforced before any tokenizer is known."""


def template(role: str, framing: TaskFraming = KERNEL_FRAMING) -> str:
    return render(resources.files("stark").joinpath("prompts", f"{role}.md").read_text(), framing)


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def numbered(source: str) -> str:
    return "\n".join(f"{i:4d}| {line}" for i, line in enumerate(source.splitlines(), start=1))


def describe(view: ProgramView) -> str:
    verdict = "correct" if view.correct else "incorrect"
    return f"program #{view.id} ({verdict}, {view.score_label.format(view.score)}) {view.outcome}".strip()


def fit(sections: list[tuple[str, str]], budget_tokens: int) -> str:
    """Join (title, body) sections in priority order; drop trailing sections and trim the last that fits."""
    out, left = [], budget_tokens * CHARS_PER_TOKEN
    for title, body in sections:
        block = f"## {title}\n{body.strip()}\n"
        if len(block) <= left:
            out.append(block)
            left -= len(block)
        elif left > 200:
            out.append(block[: left - 40] + "\n[... truncated to fit the context budget]\n")
            break
        else:
            break
    return "\n".join(out)
