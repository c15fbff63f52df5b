"""The Pareto population of each island: who stays, who is an elite, who is evicted.

Only correct programs enter (correctness is a constraint, not an objective).  Elites are the first Pareto
front of the island plus the champion of every MAP-Elites cell; the rest are evicted worst-first by (front,
crowding) once the island is over capacity.  The capacity always holds: when the elites alone exceed it (a
stagnant campaign's first front fills with tied copies) they are thinned, copies first.  Evicted programs keep
their rows, so lineage is never broken.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evolve.pareto import Fronts


@dataclass(frozen=True, slots=True)
class ObjectiveSpec:
    name: str
    direction: str = "max"

    def oriented(self, value: float) -> float:
        return value if self.direction == "max" else -value


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """A MAP-Elites descriptor: the feature's name and the bin edges that cut it into cells."""

    name: str
    edges: tuple[float, ...]

    def bin(self, value: float) -> int:
        return bisect.bisect_right(self.edges, value)


@dataclass(frozen=True, slots=True)
class Individual:
    id: int
    island: int
    objectives: tuple[float, ...]
    features: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0
    parent_id: int | None = None
    fingerprint: str = ""


def oriented_objectives(specs: Sequence[ObjectiveSpec], metrics: dict[str, float]) -> tuple[float, ...]:
    return tuple(spec.oriented(float(metrics[spec.name])) for spec in specs)


def cell_of(individual: Individual, descriptors: Sequence[FeatureSpec]) -> tuple[int, ...]:
    return tuple(spec.bin(float(individual.features.get(spec.name, 0.0))) for spec in descriptors)


def cell_champions(members: Sequence[Individual], descriptors: Sequence[FeatureSpec]) -> dict[tuple[int, ...], int]:
    """Best (highest score, then lowest id) program id in each occupied MAP-Elites cell."""
    best: dict[tuple[int, ...], Individual] = {}
    for member in members:
        cell = cell_of(member, descriptors)
        holder = best.get(cell)
        if holder is None or (member.score, -member.id) > (holder.score, -holder.id):
            best[cell] = member
    return {cell: member.id for cell, member in best.items()}


def ranked(members: Sequence[Individual]) -> Fronts:
    """The members' fronts, sorted from scratch (callers that keep an island's `Fronts` pass theirs instead)."""
    fronts = Fronts()
    for member in members:
        fronts.add(member.id, member.objectives)
    return fronts


def elite_ids(members: Sequence[Individual], descriptors: Sequence[FeatureSpec], fronts: Fronts | None = None) -> set[int]:
    if not members:
        return set()
    fronts = fronts if fronts is not None else ranked(members)
    front = {m.id for m in members if fronts.rank(m.id) == 0}
    return front | set(cell_champions(members, descriptors).values())


def trim_island(members: Sequence[Individual], capacity: int, descriptors: Sequence[FeatureSpec],
                fronts: Fronts | None = None) -> tuple[list[Individual], list[Individual]]:
    """Split an island's members into (kept, evicted) so at most `capacity` remain.

    Non-elites go first, worst by (front, crowding).  When the elites alone are too many (ties on the first
    front, many occupied cells) they are thinned too: see `thin_elites`.  `fronts`, when given, are the members'
    fronts; the evicted are removed from them, so they stay the island's."""
    members = sorted(members, key=lambda m: m.id)
    if len(members) <= capacity:
        return list(members), []
    fronts = fronts if fronts is not None else ranked(members)
    elites = elite_ids(members, descriptors, fronts)
    order = sorted(members, key=lambda m: (m.id in elites, -fronts.rank(m.id), fronts.crowding(m.id), m.id))
    evicted = [m for m in order if m.id not in elites][:len(members) - capacity]
    for member in evicted:
        fronts.remove(member.id)
    gone = {m.id for m in evicted}
    kept = [m for m in members if m.id not in gone]
    if len(kept) > capacity:
        kept, thinned = thin_elites(kept, capacity, descriptors, fronts)
        evicted += thinned
    return kept, evicted


def thin_elites(elites: Sequence[Individual], capacity: int, descriptors: Sequence[FeatureSpec],
                fronts: Fronts | None = None) -> tuple[list[Individual], list[Individual]]:
    """Drop elites one at a time until `capacity` remain, keeping the island's spread.

    Removed first: a copy (same objectives, same cell as an older elite — migrants and re-measured twins);
    then whoever is least valuable among those left, by (front among them, crowding distance, newest).  The
    island's best program by score is never removed, so its best never gets worse."""
    kept = sorted(elites, key=lambda m: m.id)
    fronts = fronts if fronts is not None else ranked(kept)
    best = max(kept, key=lambda m: (m.score, -m.id)).id
    removed: list[Individual] = []
    seen: set[tuple] = set()
    for member in list(kept):
        key = (member.objectives, cell_of(member, descriptors))
        if key in seen and member.id != best and len(kept) > capacity:
            kept.remove(member)
            fronts.remove(member.id)
            removed.append(member)
        seen.add(key)
    while len(kept) > capacity:
        victim = max((m for m in kept if m.id != best),
                     key=lambda m: (fronts.rank(m.id), -fronts.crowding(m.id), m.id))
        kept.remove(victim)
        fronts.remove(victim.id)
        removed.append(victim)
    return kept, removed


def migrants(members: Sequence[Individual], islands: int) -> list[tuple[Individual, int]]:
    """Ring migration: each island's best program (by score) that the next island does not already hold (itself, a
    copy or a twin: same normalized code) travels there."""
    moves = []
    for island in range(islands):
        destination = (island + 1) % islands
        held = {m.fingerprint or m.id for m in members if m.island == destination}
        residents = [m for m in members if m.island == island and (m.fingerprint or m.id) not in held]
        if residents and islands > 1:
            best = max(residents, key=lambda m: (m.score, -m.id))
            moves.append((best, destination))
    return moves
