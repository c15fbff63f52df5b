"""Is a proposal new?  An exact twin of a program already evaluated, or (opt-in) too close to its neighbours.

Catching twins before the evaluator saves its budget, and it also closes a judge loophole: a program cannot be
sent again and again to re-roll a noisy measurement until one comes out lucky."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evolve.db.store import ProgramStore
from evolve.records import ProgramRecord, Status
from stark.edits.normalized_code import similarity, tokens


@dataclass(frozen=True, slots=True)
class Repeat:
    """Why a proposal is not new: the status it is recorded with, the program it repeats, and a note saying so."""

    status: str
    original: int
    note: str


def find_repeat(store: ProgramStore, campaign_id: int, source: str, neighbours: Sequence[ProgramRecord],
                threshold: float, known_fingerprint: str = "") -> Repeat | None:
    """The twin among everything the campaign evaluated, else the closest neighbour at or above `threshold`."""
    twin = store.twin_of(campaign_id, source, known_fingerprint)
    if twin is not None:
        return Repeat(Status.DUPLICATE, twin, f"duplicate of #{twin}: the same program once comments and layout "
                                              "are set aside; not evaluated again")
    if threshold <= 0.0 or not neighbours:
        return None
    mine = tokens(source)
    closest, original = max((similarity(mine, tokens(n.source), threshold), n.id) for n in neighbours)
    if closest < threshold:
        return None
    return Repeat(Status.NEAR_DUPLICATE, original, f"near-duplicate of #{original}: {closest:.1%} of its normalized "
                                                   f"code in common (evolve.novelty.similarity = {threshold:g})")
