"""Planner, coder and reviewer roles (LLM-backed or the offline mutator) and their Ray actors."""

from stark.agents.actors import CoderActor, PlannerActor, ReviewerActor, start_agents
from stark.agents.records import CodeRequest, Plan, PlanRequest, ProgramView, Proposal, RepairRequest, Verdict
from stark.agents.settings import AgentSettings, RoleSettings

__all__ = ["AgentSettings", "CodeRequest", "CoderActor", "Plan", "PlanRequest", "PlannerActor", "ProgramView",
           "Proposal", "RepairRequest", "ReviewerActor", "RoleSettings", "Verdict", "start_agents"]
