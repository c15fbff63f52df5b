"""Plan, code, screen — and evaluate — in one call from the campaign loop.

Each stage is a call to its role's actor (or to an evaluator) either way; made from here, the campaign's driver
sends one request and receives one reply per attempt instead of four, and records the attempt in one transaction.
The driver's time per attempt is what bounds how many attempts a campaign can run at once
(benchmarks/campaign_overhead.py).  A stage whose endpoint is down, or that ends the attempt (no plan, no
program), ends the pipeline; the campaign takes it from there stage by stage, as before.

All of the campaign's evaluations go through here (`evaluate` for the ones the driver sends: the seed, repairs,
re-measurements, resumed programs), so one dispatcher balances the whole load over the pool.  An accepted
proposal is sent on to an evaluator only when the campaign asked for that (`use_evaluators` with a request to
fill in: not with a rank stage, which decides first whether to time it, nor with near-duplicate checks, which
need the island's members) and its normalized code is new to this actor.  What is new here is a hint: the
driver looks every proposal up in the database before it records it, and sets aside the evaluation of one that
turns out to be a twin.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import ray

from evaluators.config import EvalRequest
from evaluators.dispatch import AsyncDispatch, EvaluatorLost
from stark.agents.program_features import program_features
from stark.agents.records import CodeRequest, PlanRequest, Proposed
from stark.edits import unified_diff
from stark.edits.normalized_code import fingerprint


class ProposalPipeline:
    def __init__(self, planner: str, coder: str, reviewer: str):
        """The roles' actor names."""
        self.planner, self.coder, self.reviewer = (ray.get_actor(name) for name in (planner, coder, reviewer))
        self.dispatch: AsyncDispatch | None = None
        self.template: EvalRequest | None = None
        self.seen: set[str] = set()
        """Fingerprints of everything sent to an evaluator (or recorded so by the campaign before this started)."""
        self.in_flight: dict[str, asyncio.Event] = {}

    def use_evaluators(self, handles: list, generations: list[int], template: EvalRequest | None) -> None:
        """The pool's actors; `template` (its source left empty) when accepted proposals are evaluated here."""
        self.dispatch, self.template = AsyncDispatch(handles, generations), template

    def use_evaluator(self, slot: int, handle, generation: int) -> None:
        if self.dispatch is not None:
            self.dispatch.use(slot, handle, generation)

    def remember(self, fingerprints: list[str]) -> None:
        self.seen.update(fingerprints)

    async def evaluate(self, request: EvalRequest, known_fingerprint: str = ""):
        """An EvalResult, or EvaluatorLost (slot -1: this actor was restarted and lost its pool; send it again)."""
        if self.dispatch is None:
            return EvaluatorLost(-1, -1)
        if known_fingerprint:
            self.seen.add(known_fingerprint)
        return await self.dispatch.evaluate(request)

    async def propose(self, request: PlanRequest) -> Proposed:
        plan = await self.planner.plan.remote(request)
        if plan.unavailable or not plan.instructions:
            return Proposed(plan)
        code = CodeRequest(request.attempt, request.seed, plan, request.parent, request.inspirations)
        proposal = await self.coder.code.remote(code)
        if proposal.unavailable or proposal.source is None:
            return Proposed(plan, proposal)
        source = proposal.source
        screening = self.reviewer.screen.remote(source)
        twin = fingerprint(source)
        worked_out = twin, unified_diff(request.parent.source, source), program_features(source)
        verdict = await screening             # the rest was worked out while the reviewer screened
        if not verdict.accepted or self.template is None:      # set only with a dispatcher (use_evaluators)
            return Proposed(plan, proposal, verdict, *worked_out)
        if twin in self.seen:
            if twin in self.in_flight:        # its twin's verdict first: the campaign then finds it recorded
                await self.in_flight[twin].wait()
            return Proposed(plan, proposal, verdict, *worked_out)
        self.seen.add(twin)
        self.in_flight[twin] = done = asyncio.Event()
        try:
            evaluation = await self.dispatch.evaluate(replace(self.template, candidate_source=source))
        except Exception:  # noqa: BLE001 - the evaluator's own failure is not the proposal's: the driver sends it
            evaluation = None    # again by itself and meets the error there, as it would have without this shortcut
        finally:
            del self.in_flight[twin]
            done.set()
        return Proposed(plan, proposal, verdict, *worked_out, evaluation)
