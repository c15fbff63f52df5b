"""Evaluations sent from inside the agents' pipeline actor, least-loaded over the campaign's evaluator pool.

Kept apart from evaluators/pool.py (which builds the actors and imports the judge) so that the pipeline's process
imports only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ray.exceptions import RayActorError

from evaluators.config import EvalRequest
from evaluators.records import EvalResult


@dataclass(frozen=True, slots=True)
class EvaluatorLost:
    """In place of a result: the evaluator of `slot` is gone for good (one that merely crashed is restarted by Ray,
    which runs its calls again).  `generation` says which of the slot's actors it was, so that several calls
    failing on one dead actor replace it once.  The caller replaces it and sends the request again."""

    slot: int
    generation: int


class AsyncDispatch:
    """Least-loaded dispatch of evaluations from inside an async actor (the agents' pipeline, which sends each
    accepted proposal straight on to an evaluator: one reply to the campaign's driver per attempt instead of two).
    All of a campaign's evaluations go through one of these, so the load it balances is the whole load."""

    def __init__(self, handles: Sequence, generations: Sequence[int]):
        self.handles, self.generations = list(handles), list(generations)
        self.load = [0] * len(self.handles)

    def use(self, slot: int, handle, generation: int) -> None:
        """A replacement for a lost actor; a late word about an older one is ignored."""
        if generation > self.generations[slot]:
            self.handles[slot], self.generations[slot] = handle, generation

    async def evaluate(self, request: EvalRequest) -> EvalResult | EvaluatorLost:
        slot = min(range(len(self.load)), key=lambda i: (self.load[i], i))
        handle, generation = self.handles[slot], self.generations[slot]
        self.load[slot] += 1
        try:
            return await handle.evaluate.remote(request)
        except RayActorError:
            return EvaluatorLost(slot, generation)
        finally:
            self.load[slot] -= 1
