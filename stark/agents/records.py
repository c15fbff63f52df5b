"""What the campaign sends to the agents and what they send back (plain data across Ray)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kernelbench.score_label import KERNEL_SCORE, ScoreLabel
from stark.llm.records import LLMCallRecord

if TYPE_CHECKING:
    from evaluators.dispatch import EvaluatorLost
    from evaluators.records import EvalResult


@dataclass(frozen=True, slots=True)
class ProgramView:
    """A program as an agent sees it: code plus the outcome it earned."""

    id: int
    source: str
    score: float | None = None
    correct: bool = False
    outcome: str = ""
    strategy: str = ""
    score_label: ScoreLabel = KERNEL_SCORE


@dataclass(frozen=True, slots=True)
class PlanRequest:
    attempt: int
    seed: int
    problem_source: str
    parent: ProgramView
    siblings: tuple[ProgramView, ...] = ()
    inspirations: tuple[ProgramView, ...] = ()
    profile_summary: str = ""
    skills: str = ""
    """Skills that improved programs on this or similar problems, across the database (evolve/skills.py)."""


@dataclass(frozen=True, slots=True)
class Plan:
    strategy: str
    instructions: str
    calls: tuple[LLMCallRecord, ...] = ()
    error: str = ""
    unavailable: str = ""
    """Set when the model's endpoint was down: the attempt waits for it instead of failing."""
    repaired: str = ""
    """What was fixed in the model's plan on the way to the coder (citations added), for the log."""


@dataclass(frozen=True, slots=True)
class CodeRequest:
    attempt: int
    seed: int
    plan: Plan
    parent: ProgramView
    inspirations: tuple[ProgramView, ...] = ()


@dataclass(frozen=True, slots=True)
class Proposal:
    """A child program, or the reason there is none (malformed or non-applying edit, LLM failure)."""

    source: str | None
    response: str
    calls: tuple[LLMCallRecord, ...] = ()
    error: str = ""
    unavailable: str = ""
    form: str = ""
    """How the reply was read: search/replace, unified diff, a rewrite of definitions, json edits..."""


@dataclass(frozen=True, slots=True)
class RepairRequest:
    attempt: int
    seed: int
    problem_source: str
    program: ProgramView
    failure: str


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool
    reason: str = ""
    calls: tuple[LLMCallRecord, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Proposed:
    """What the planner, coder and reviewer made of one attempt, in one reply: as far as it got (a stage that
    ended the attempt, or found its endpoint down, is the last one present)."""

    plan: Plan
    proposal: Proposal | None = None
    verdict: Verdict | None = None
    fingerprint: str = ""
    """Of the proposal's normal form (stark.edits.normalized_code), worked out here rather than in the campaign's
    driver, which looks twins up by it."""
    diff: str = ""
    """The proposal against its parent, as the database keeps it."""
    features: dict[str, float] | None = None
    """The proposal's descriptors (stark/agents/program_features.py).  These three are the attempt's work done
    on the source alone: the driver serves every attempt in turn, the agents' actors run side by side."""
    evaluation: EvalResult | EvaluatorLost | None = None
    """The accepted proposal's evaluation, when the pipeline sent it on to an evaluator (stark/agents/pipeline.py)."""

    @property
    def calls(self) -> tuple[LLMCallRecord, ...]:
        return (*self.plan.calls, *(self.proposal.calls if self.proposal else ()),
                *(self.verdict.calls if self.verdict else ()))
