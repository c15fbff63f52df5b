"""What the team is optimizing, in the words the role prompts use: a kernel by default, else a simulated policy.

Derived from the problem when a campaign starts, so it is not part of the TOML config.

The templates in stark/prompts/ hold `{mission}`, `{keep}`, `{integrity}`, `{problem_title}` and `{examples}`; a
discovery campaign fills them so the model is told to improve `saved_mean`, not to make a kernel faster, and
sees strategies of its own kind, not "retile for L1".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaskFraming:
    mission: str = "optimizes a kernel for speed while keeping it exactly correct"
    keep: str = "Keep `class ModelNew` and its constructor signature."
    integrity: str = "Never call the reference Model, torch ops the problem asks to replace, or read inputs from elsewhere."
    problem_title: str = "Problem (reference implementation)"
    entry_points: tuple[str, ...] = ("ModelNew",)       # what the reviewer's screen insists on
    examples: str = '"retile for L1", "fuse bias into epilogue", "vectorize the inner loop"'


KERNEL_FRAMING = TaskFraming()


def discovery_framing(objective: str, better: str, entry_points: Iterable[str]) -> TaskFraming:
    names = ", ".join(f"`{name}`" for name in entry_points)
    return TaskFraming(
        mission=f"improves a policy scored by a deterministic simulator on {objective} ({better})",
        keep=f"Keep the functions {names} and their signatures; they must stay deterministic.",
        integrity="Use only what the functions receive as arguments: never import the simulator, read the "
                  "evaluation instances, or keep state that leaks between evaluations.",
        problem_title="Problem (simulator, baselines and evaluation)", entry_points=tuple(entry_points),
        examples='"prefer recent items over frequent ones", "score by cost per unit of benefit", '
                 '"break ties by the earliest deadline"')


def render(template: str, framing: TaskFraming) -> str:
    for key in ("mission", "keep", "integrity", "problem_title", "examples"):
        template = template.replace("{" + key + "}", getattr(framing, key))
    return template
