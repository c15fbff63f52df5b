"""Planner, coder and reviewer backed by a chat model; a model's mistakes come back as data, not exceptions."""

from __future__ import annotations

import re

from stark.agents.framing import KERNEL_FRAMING, TaskFraming
from stark.agents.prompting import describe, fit, numbered, template
from stark.agents.records import CodeRequest, Plan, PlanRequest, Proposal, RepairRequest, Verdict
from stark.agents.screening import screen
from stark.diffs import DiffError, apply_edit
from stark.llm.client import LLMClient
from stark.llm.settings import ModelSettings

_LINE_REF = re.compile(r"\[L(\d+)(?:-L(\d+))?\]")


def _budget(settings: ModelSettings, system: str) -> int:
    return max(256, settings.context_tokens - settings.max_output_tokens - len(system) // 4)


def ask(client: LLMClient, settings: ModelSettings, system: str, role: str, sections: list[tuple[str, str]]):
    """One chat call: the role's system prompt plus the sections fitted to its context budget."""
    return client.chat(role, [{"role": "system", "content": system},
                              {"role": "user", "content": fit(sections, _budget(settings, system))}])


def propose(reply, parent_source: str, role: str, rejected: str) -> Proposal:
    """A child program from the reply's edit, or the reason there is none."""
    if not reply.ok:
        return Proposal(None, "", reply.calls, f"{role} LLM call failed: {reply.error}", reply.unavailable)
    try:
        return Proposal(apply_edit(parent_source, reply.text), reply.text, reply.calls)
    except DiffError as exc:
        return Proposal(None, reply.text, reply.calls, f"{rejected} rejected: {exc}")


def ungrounded_references(instructions: str, source: str) -> list[str]:
    """Line citations that point outside the program, and a note when there are none at all."""
    lines = len(source.splitlines())
    refs = _LINE_REF.findall(instructions)
    if not refs:
        return ["no [L..] line citations"]
    return [f"L{a}-L{b or a}" for a, b in refs if not 1 <= int(a) <= int(b or a) <= lines]


class LLMPlanner:
    def __init__(self, client: LLMClient, settings: ModelSettings, framing: TaskFraming = KERNEL_FRAMING):
        self.client, self.settings, self.system = client, settings, template("planner", framing)
        self.problem_title = framing.problem_title

    def plan(self, request: PlanRequest) -> Plan:
        sections = [("Current program", f"{describe(request.parent)}\n{numbered(request.parent.source)}")]
        if request.profile_summary:
            sections.append(("Profile", request.profile_summary))
        if request.siblings:
            sections.append(("Already tried from this program",
                             "\n".join(f"- {s.strategy or 'unknown'}: {describe(s)}" for s in request.siblings)))
        sections.append((self.problem_title, request.problem_source))
        sections += [(f"Inspiration: {describe(v)}", v.source) for v in request.inspirations]
        reply = ask(self.client, self.settings, self.system, "planner", sections)
        if not reply.ok:
            return Plan("", "", reply.calls, f"planner LLM call failed: {reply.error}", reply.unavailable)
        match = re.search(r"STRATEGY:\s*(.+)", reply.text)
        strategy = match.group(1).strip()[:200] if match else "unnamed"
        instructions = reply.text.split("INSTRUCTIONS:", 1)[-1].strip()
        problems = ungrounded_references(instructions, request.parent.source)
        return Plan(strategy, instructions, reply.calls, f"ungrounded plan: {', '.join(problems)}" if problems else "")


class LLMCoder:
    def __init__(self, client: LLMClient, settings: ModelSettings, framing: TaskFraming = KERNEL_FRAMING):
        self.client, self.settings, self.system = client, settings, template("coder", framing)

    def code(self, request: CodeRequest) -> Proposal:
        sections = [("Plan", f"STRATEGY: {request.plan.strategy}\n{request.plan.instructions}"),
                    ("Current program", numbered(request.parent.source)),
                    ("Current program (verbatim, for SEARCH blocks)", request.parent.source)]
        sections += [(f"Inspiration: {describe(v)}", v.source) for v in request.inspirations]
        reply = ask(self.client, self.settings, self.system, "coder", sections)
        return propose(reply, request.parent.source, "coder", "edit")


class LLMReviewer:
    def __init__(self, client: LLMClient, settings: ModelSettings, forbidden_calls: tuple[str, ...] = (),
                 framing: TaskFraming = KERNEL_FRAMING):
        self.client, self.settings, self.system = client, settings, template("reviewer", framing)
        self.problem_title = framing.problem_title
        self.forbidden_calls, self.entry_points = forbidden_calls, framing.entry_points

    def screen(self, source: str) -> Verdict:
        problem = screen(source, self.forbidden_calls, self.entry_points)
        return Verdict(not problem, problem)

    def repair(self, request: RepairRequest) -> Proposal:
        sections = [("Failure", request.failure), ("Program", request.program.source),
                    (self.problem_title, request.problem_source)]
        reply = ask(self.client, self.settings, self.system, "reviewer", sections)
        return propose(reply, request.program.source, "reviewer", "repair")
