"""Plain records read out of the program database; ORM rows never leave the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Status:
    """Where a program is in its life; strings so the database stays readable by hand."""

    PROPOSED = "proposed"
    INVALID = "invalid"
    REJECTED = "rejected"
    FAILED = "failed"
    EVALUATED = "evaluated"
    DUPLICATE = "duplicate"
    """Its normalized code is that of a program already evaluated (`duplicate_of`): never evaluated itself."""
    NEAR_DUPLICATE = "near_duplicate"
    """Too similar to a program on its island (`evolve.novelty`): sent back for a new plan, not evaluated."""
    UNTIMED = "untimed"
    """Verified correct but not timed: the cost model predicted it could not reach the best (`cost_model`)."""
    EVALUATION_BOUND = (PROPOSED, FAILED, EVALUATED, UNTIMED)
    """Statuses of programs that went to the evaluator (or are there now): what a twin is looked up among."""


class RunStatus:
    """A campaign's status as the database holds it."""

    RUNNING = "running"
    WAITING_FOR_LLM = "waiting for LLM"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    STOPPED = "stopped"          # ended cleanly before its budget (an LLM endpoint that never came back)
    FAILED = "failed"
    ACTIVE = (RUNNING, WAITING_FOR_LLM)


@dataclass(frozen=True, slots=True)
class ProgramRecord:
    id: int
    parent_id: int | None
    attempt: int
    island: int
    generation: int
    origin: str
    strategy: str
    source: str
    diff: str
    note: str
    status: str
    correct: bool
    score: float | None
    code_size: int
    objectives: tuple[float, ...]
    features: dict[str, Any] = field(default_factory=dict)
    in_population: bool = False
    fingerprint: str = ""
    duplicate_of: int | None = None

