"""Planner, coder and reviewer backed by a chat model; a model's mistakes come back as data, not exceptions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from stark.agents.framing import KERNEL_FRAMING, TaskFraming
from stark.agents.plans import quote_cited_lines, read_plan
from stark.agents.prompting import (PromptTooLarge, Section, describe, distinct_inspirations, fit, numbered,
                                    template)
from stark.agents.records import CodeRequest, Plan, PlanRequest, Proposal, RepairRequest, Verdict
from stark.agents.screening import screen
from stark.edits import EditError, apply_edit
from stark.edits.structured import edit_schema, json_object, plan_schema, plan_text
from stark.llm.client import LLMClient
from stark.llm.records import ChatReply
from stark.llm.settings import ModelSettings

STRUCTURED_HINT = {    # concrete values: a small model copies placeholders such as "L<a>-L<b>" verbatim (measured)
    "planner": '\n\nAnswer with one JSON object, for example: {"strategy": "unroll the inner loop", '
               '"instructions": [{"lines": "L12-L14", "change": "unroll the loop over k by 4"}]}. '
               'Cite lines of the current program.',
    "edit": '\n\nAnswer with one JSON object, for example: {"edits": [{"search": "    total = 0", '
            '"replace": "    total = 0.0"}]}. Each search is one line of the current program, copied exactly; '
            'its replace may be several lines, or empty to delete it.',
}


class _Role:
    """What every LLM-backed role shares: its client, settings, system prompt, and the budgeted call."""

    name = ""
    hint = ""

    def __init__(self, client: LLMClient, settings: ModelSettings, framing: TaskFraming = KERNEL_FRAMING,
                 prompt_path: str = ""):
        self.client, self.settings, self.framing = client, settings, framing
        self.system = template(self.name, framing, prompt_path)
        if settings.output != "text":
            self.system += STRUCTURED_HINT[self.hint]

    def budget(self) -> int:
        count = self.client.tokens.count
        return self.settings.context_tokens - self.settings.max_output_tokens - count(self.system) - 32

    def ask(self, sections: list[Section], schema: dict, judge: Callable[[ChatReply], str]) -> ChatReply | str:
        """The reply, or why no call was made (the prompt cannot fit).  A reply the `judge` finds unusable is
        sent back with what was wrong (`format_retries` times, while the conversation fits the context): models
        large and small fix a SEARCH text once shown the line it missed."""
        try:
            user = fit(sections, self.budget(), self.client.tokens.count, f"{self.name} prompt")
        except PromptTooLarge as exc:
            return str(exc)
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
        reply = self.client.chat(self.name, messages, schema=schema)
        calls = list(reply.calls)
        for _ in range(self.settings.format_retries):
            problem = judge(reply) if reply.ok else ""
            if not problem:
                break
            messages = messages + [{"role": "assistant", "content": reply.text},
                                   {"role": "user", "content": f"That answer could not be used: {problem}. "
                                                               f"Answer again, in the form asked for."}]
            room = self.settings.context_tokens - self.settings.max_output_tokens
            if self.client.tokens.count_messages(messages) > room:
                break
            again = self.client.chat(self.name, messages, schema=schema)
            calls += again.calls
            if not again.ok and not again.unavailable:
                break                               # keep the first answer and its reason
            reply = again
        return replace(reply, calls=tuple(calls))


def edit_problem(parent_source: str) -> Callable[[ChatReply], str]:
    def judge(reply: ChatReply) -> str:
        try:
            apply_edit(parent_source, reply.text, truncated=reply.truncated)
            return ""
        except EditError as exc:
            return str(exc)
    return judge


def plan_problem(parent_source: str, structured: bool) -> Callable[[ChatReply], str]:
    def judge(reply: ChatReply) -> str:
        return read_plan(_plan_text(reply.text, structured), parent_source).problem
    return judge


def _plan_text(text: str, structured: bool) -> str:
    if structured and (data := json_object(text)) is not None:
        return plan_text(data)
    return text


def propose(reply: ChatReply | str, parent_source: str, role: str, rejected: str) -> Proposal:
    """A child program from the reply's edit, or the reason there is none."""
    if isinstance(reply, str):
        return Proposal(None, "", (), f"{role}: {reply}")
    if not reply.ok:
        return Proposal(None, "", reply.calls, f"{role} LLM call failed: {reply.error}", reply.unavailable)
    try:
        applied = apply_edit(parent_source, reply.text, truncated=reply.truncated)
    except EditError as exc:
        return Proposal(None, reply.text, reply.calls, f"{rejected} rejected: {exc}")
    return Proposal(applied.child, reply.text, reply.calls, form=applied.form)


class LLMPlanner(_Role):
    name, hint = "planner", "planner"

    def plan(self, request: PlanRequest) -> Plan:
        parent = request.parent
        sections = [Section("Current program", f"{describe(parent)}\n{numbered(parent.source)}", required=True)]
        if request.profile_summary:
            sections.append(Section("Profile", request.profile_summary))
        if request.skills:
            sections.append(Section("Skills that worked on similar problems (pick one if it fits)", request.skills))
        if request.siblings:
            sections.append(Section("Already tried from this program",
                                    "\n".join(f"- {s.strategy or 'unknown'}: {describe(s)}" for s in request.siblings)))
        sections += [Section(f"Inspiration: {describe(v)}", v.source, share=0.4)
                     for v in distinct_inspirations(parent, request.inspirations)]
        sections.append(Section(self.framing.problem_title, request.problem_source, share=0.5))
        structured = self.settings.output != "text"
        reply = self.ask(sections, plan_schema(parent.source), plan_problem(parent.source, structured))
        if isinstance(reply, str):
            return Plan("", "", (), f"planner: {reply}")
        if not reply.ok:
            return Plan("", "", reply.calls, f"planner LLM call failed: {reply.error}", reply.unavailable)
        read = read_plan(_plan_text(reply.text, structured), parent.source)
        if read.problem:
            cut = " (reply truncated at the output token limit)" if reply.truncated else ""
            return Plan(read.strategy, "", reply.calls, read.problem + cut)
        return Plan(read.strategy, read.instructions, reply.calls, repaired=read.repaired)


class LLMCoder(_Role):
    name, hint = "coder", "edit"

    def code(self, request: CodeRequest) -> Proposal:
        parent = request.parent
        plan = f"STRATEGY: {request.plan.strategy}\n{request.plan.instructions}"
        cited = quote_cited_lines(request.plan.instructions, parent.source)
        sections = [Section("Plan", plan + (f"\n\nThe lines it cites:\n{cited}" if cited else ""), required=True),
                    Section("Current program", parent.source, required=True)]
        sections += [Section(f"Inspiration: {describe(v)}", v.source, share=0.5)
                     for v in distinct_inspirations(parent, request.inspirations)]
        schema = edit_schema(parent.source)
        return propose(self.ask(sections, schema, edit_problem(parent.source)), parent.source, "coder", "edit")


class LLMReviewer(_Role):
    name, hint = "reviewer", "edit"

    def __init__(self, client: LLMClient, settings: ModelSettings, forbidden_calls: tuple[str, ...] = (),
                 framing: TaskFraming = KERNEL_FRAMING, prompt_path: str = ""):
        super().__init__(client, settings, framing, prompt_path)
        self.forbidden_calls, self.entry_points = forbidden_calls, framing.entry_points

    def screen(self, source: str) -> Verdict:
        problem = screen(source, self.forbidden_calls, self.entry_points)
        return Verdict(not problem, problem)

    def repair(self, request: RepairRequest) -> Proposal:
        sections = [Section("Failure", request.failure, required=True),
                    Section("Program", request.program.source, required=True),
                    Section(self.framing.problem_title, request.problem_source, share=0.6)]
        source = request.program.source
        schema = edit_schema(source)
        return propose(self.ask(sections, schema, edit_problem(source)), source, "reviewer", "repair")
