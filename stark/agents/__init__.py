"""Planner, coder and reviewer roles (LLM-backed or the offline mutator) and their Ray actors.

The actors are imported on first use, so reading a config (`stark status`) does not import Ray or openai."""

from stark.agents.records import (CodeRequest, Plan, PlanRequest, ProgramView, Proposal, Proposed, RepairRequest,
                                  Verdict)
from stark.agents.settings import AgentSettings, RoleSettings

_ACTORS = ("CoderActor", "PlannerActor", "ReviewerActor", "start_agents")


def __getattr__(name: str):
    if name in _ACTORS:
        from stark.agents import actors

        return getattr(actors, name)
    raise AttributeError(f"module 'stark.agents' has no attribute {name!r}")


__all__ = ["AgentSettings", "CodeRequest", "CoderActor", "Plan", "PlanRequest", "PlannerActor", "ProgramView",
           "Proposal", "Proposed", "RepairRequest", "ReviewerActor", "RoleSettings", "Verdict", "start_agents"]
