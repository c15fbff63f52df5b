"""Waiting out an LLM endpoint that went down, without consuming attempts.

The stalled call is parked, no new attempt starts, the run shows "waiting for LLM" and probes the endpoint
every `pipeline.llm_probe_interval_s`; when it answers the parked calls are sent again, and after
`pipeline.llm_outage_s` (or at once, for a rejected key) the run stops cleanly and can be resumed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import ray

from evolve.records import RunStatus

ACTOR_OF_PHASE = {"plan": ("planner", "plan"), "code": ("coder", "code"), "repair": ("reviewer", "repair"),
                  "screen": ("reviewer", "screen"), "propose": ("pipeline", "propose")}


class LLMUnavailable(RuntimeError):
    """An LLM endpoint stayed down past `pipeline.llm_outage_s`, or rejects the key: the run stops cleanly."""


@dataclass
class Outage:
    """An LLM endpoint that stopped answering: which role noticed, since when, why."""

    role: str
    since: float
    reason: str
    last_probe: float = 0.0


class OutageHandling:
    """The campaign's outage handling, kept apart from its attempt pipeline.  The campaign provides `config`,
    `agents`, `events`, `save` and `call_agent`, and starts with `outage = None`, `stalled = []`,
    `probe_ref = None`."""

    outage: Outage | None
    stalled: list[tuple[str, Any, Any]]
    probe_ref: Any

    def outage_text(self) -> str:
        if self.outage is None:
            return ""
        return f"waiting for LLM ({self.outage.role}, {time.monotonic() - self.outage.since:.0f} s)"

    def stall(self, phase: str, attempt: Any, call: Any, reason: str) -> None:
        """The endpoint is down: park the call (the attempt stays open, nothing is consumed) and wait."""
        self.stalled.append((phase, attempt, call))
        if self.outage is None:
            role = ACTOR_OF_PHASE[phase][0]
            self.outage = Outage(role, time.monotonic(), reason, last_probe=time.monotonic())
            self.save(RunStatus.WAITING_FOR_LLM)
            self.events.append("waiting for LLM", role=role, reason=reason)

    def tend_outage(self) -> None:
        """Probe a down endpoint now and then; send the stalled calls again once it answers."""
        outage = self.outage
        if outage is None:
            return
        now = time.monotonic()
        if self.probe_ref is not None:
            ready, _ = ray.wait([self.probe_ref], timeout=0)
            if not ready:
                return
            kind, message = ray.get(self.probe_ref)
            self.probe_ref, outage.last_probe = None, now
            if not kind:
                self.end_outage()
                return
            if kind in ("auth", "client"):
                raise LLMUnavailable(self.endpoint_line(outage.role, f"{kind} error: {message}"))
            outage.reason = message
        limit = self.config.pipeline.llm_outage_s
        if limit and now - outage.since > limit:
            raise LLMUnavailable(self.endpoint_line(outage.role, f"unreachable for {now - outage.since:.0f} s "
                                                    f"({outage.reason}); stopped, `stark resume` continues"))
        if now - outage.last_probe >= self.config.pipeline.llm_probe_interval_s:
            self.probe_ref = self.agents[outage.role].probe.remote()

    def end_outage(self) -> None:
        if self.outage is None:
            return
        waited = time.monotonic() - self.outage.since
        self.outage = None
        self.save(RunStatus.RUNNING)
        self.events.append("LLM back", waited_s=round(waited, 1), resent=len(self.stalled))
        stalled, self.stalled = self.stalled, []
        for phase, attempt, call in stalled:
            self.call_agent(phase, attempt, call)

    def endpoint_line(self, role: str, what: str) -> str:
        settings = getattr(self.config.agents, role).llm
        return f"{role} LLM endpoint {settings.base_url} (model {settings.model}): {what}"
