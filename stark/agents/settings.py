"""Which implementation plays each role, and with which model."""

from __future__ import annotations

from dataclasses import dataclass, field

from stark.llm.settings import ModelSettings

ROLE_KINDS = ("llm", "offline")


@dataclass(frozen=True, slots=True)
class RoleSettings:
    kind: str = "offline"
    llm: ModelSettings = field(default_factory=ModelSettings)
    prompt: str = ""
    """A system prompt template of your own (a file; relative to the config); the shipped one when empty."""

    def __post_init__(self) -> None:
        if self.kind not in ROLE_KINDS:
            raise ValueError(f"unknown agent kind {self.kind!r}; choose one of {', '.join(ROLE_KINDS)}")


@dataclass(frozen=True, slots=True)
class AgentSettings:
    planner: RoleSettings = field(default_factory=RoleSettings)
    coder: RoleSettings = field(default_factory=RoleSettings)
    reviewer: RoleSettings = field(default_factory=RoleSettings)
    forbidden_calls: tuple[str, ...] = ()
    """Old name of evaluator.forbidden_ops; a campaign merges both into one list for screen and judge."""
    response_cache: str = ""
