"""The three roles as Ray actors: each builds its own LLM client (or offline operator) inside its process."""

from __future__ import annotations

import uuid

import ray

from stark.agents.framing import KERNEL_FRAMING, TaskFraming
from stark.agents.llm_roles import LLMCoder, LLMPlanner, LLMReviewer
from stark.agents.offline import OfflineCoder, OfflinePlanner, OfflineReviewer
from stark.agents.pipeline import ProposalPipeline
from stark.agents.records import CodeRequest, Plan, PlanRequest, Proposal, RepairRequest, Verdict
from stark.agents.settings import AgentSettings, RoleSettings
from stark.llm.cache import ResponseCache
from stark.llm.client import OpenAIChatClient
from stark.llm.gate import start_gates


def _client(role: RoleSettings, settings: AgentSettings, seed: int, gates: dict | None) -> OpenAIChatClient:
    cache = ResponseCache(settings.response_cache) if settings.response_cache else None
    return OpenAIChatClient(role.llm, cache=cache, seed=seed, gate=(gates or {}).get(role.llm.base_url))


class _Probing:
    """While the campaign waits out an outage it asks each role whether its endpoint answers again."""

    role = None

    def probe(self) -> tuple[str, str]:
        """("", "") when the endpoint answers (or the role needs none), else (failure kind, one line)."""
        client = getattr(self.role, "client", None)
        if client is None:
            return "", ""
        failure = client.probe()
        return ("", "") if failure is None else (failure.kind, failure.message)


def build_planner(settings: AgentSettings, seed: int = 0, framing: TaskFraming = KERNEL_FRAMING, gates=None):
    role = settings.planner
    if role.kind == "offline":
        return OfflinePlanner()
    return LLMPlanner(_client(role, settings, seed, gates), role.llm, framing, role.prompt)


def build_coder(settings: AgentSettings, seed: int = 0, framing: TaskFraming = KERNEL_FRAMING, gates=None):
    role = settings.coder
    if role.kind == "offline":
        return OfflineCoder()
    return LLMCoder(_client(role, settings, seed, gates), role.llm, framing, role.prompt)


def build_reviewer(settings: AgentSettings, seed: int = 0, framing: TaskFraming = KERNEL_FRAMING, gates=None):
    role = settings.reviewer
    if role.kind == "offline":
        return OfflineReviewer(settings.forbidden_calls, framing.entry_points)
    return LLMReviewer(_client(role, settings, seed, gates), role.llm, settings.forbidden_calls, framing, role.prompt)


class PlannerActor(_Probing):
    def __init__(self, settings: AgentSettings, seed: int = 0, framing: TaskFraming = KERNEL_FRAMING, gates=None):
        self.role = build_planner(settings, seed, framing, gates)

    def plan(self, request: PlanRequest) -> Plan:
        return self.role.plan(request)


class CoderActor(_Probing):
    def __init__(self, settings: AgentSettings, seed: int = 0, framing: TaskFraming = KERNEL_FRAMING, gates=None):
        self.role = build_coder(settings, seed, framing, gates)

    def code(self, request: CodeRequest) -> Proposal:
        return self.role.code(request)


class ReviewerActor(_Probing):
    def __init__(self, settings: AgentSettings, seed: int = 0, framing: TaskFraming = KERNEL_FRAMING, gates=None):
        self.role = build_reviewer(settings, seed, framing, gates)

    def screen(self, source: str) -> Verdict:
        return self.role.screen(source)

    def repair(self, request: RepairRequest) -> Proposal:
        return self.role.repair(request)


def start_agents(settings: AgentSettings, seed: int = 0,
                 framing: TaskFraming = KERNEL_FRAMING) -> tuple[dict[str, ray.actor.ActorHandle], list]:
    """One actor per role, and the pipeline that calls them in turn (`pipeline`); they wait on HTTP, so they ask
    Ray for no CPU and serve several calls at once.
    They hold no state worth keeping, so Ray restarts one lost with its node and retries its calls.  Roles
    that share an endpoint share its request slots through one gate per endpoint (returned beside them)."""
    roles = (("planner", PlannerActor, settings.planner), ("coder", CoderActor, settings.coder),
             ("reviewer", ReviewerActor, settings.reviewer))
    limits: dict[str, int] = {}
    for _, _, role in roles:
        if role.kind == "llm":
            url = role.llm.base_url
            limits[url] = min(limits.get(url, role.llm.concurrency()), role.llm.concurrency())
    gates = start_gates(limits)
    handles = {}
    names = {name: f"stark-{uuid.uuid4().hex[:12]}-{name}" for name, _, _ in roles}
    for name, cls, role in roles:
        concurrency = role.llm.concurrency() + 1 if role.kind == "llm" else 1
        handles[name] = ray.remote(num_cpus=0, max_concurrency=concurrency, max_restarts=-1, max_task_retries=-1,
                                   name=names[name])(cls).remote(settings, seed, framing, gates)
    # the pipeline finds the roles by name: handles as constructor arguments would sit in the object store,
    # where a restarted pipeline could not count on finding them
    handles["pipeline"] = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(ProposalPipeline).remote(
        names["planner"], names["coder"], names["reviewer"])
    return handles, list(gates.values())
