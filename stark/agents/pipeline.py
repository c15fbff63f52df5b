"""Plan, code and screen in one call from the campaign loop.

Each stage is a call to its role's actor either way; made from here, the campaign's driver sends one request
and receives one reply per attempt instead of three, and records the attempt's LLM calls in one transaction.
The driver's time per attempt is what bounds how many attempts a campaign can run at once
(benchmarks/campaign_overhead.py).  A stage whose endpoint is down, or that ends the attempt (no plan, no
program), ends the pipeline; the campaign takes it from there stage by stage, as before.
"""

from __future__ import annotations

import ray

from stark.agents.program_features import program_features
from stark.agents.records import CodeRequest, PlanRequest, Proposed
from stark.edits import unified_diff
from stark.edits.normalized_code import fingerprint


class ProposalPipeline:
    def __init__(self, planner: str, coder: str, reviewer: str):
        """The roles' actor names."""
        self.planner, self.coder, self.reviewer = (ray.get_actor(name) for name in (planner, coder, reviewer))

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
        worked_out = fingerprint(source), unified_diff(request.parent.source, source), program_features(source)
        return Proposed(plan, proposal, await screening, *worked_out)      # worked out while the reviewer screens
