"""Choosing the parent to mutate and the inspirations shown beside it; every choice draws from a seeded RNG.

- uniform: any island member, equally likely.
- pareto_tournament: the best of k random members by (front, crowding), as in NSGA-II's selection.
- epsilon_greedy (STARK): over the whole tree of attempts, exploit the node with the best speedup
  discounted by how often it was already expanded, or explore a random node with probability ε; ε grows
  while the campaign stagnates and falls back once it improves.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass

from evolve.pareto import Fronts
from evolve.population import Individual, ranked

STRATEGIES = ("uniform", "pareto_tournament", "epsilon_greedy")


@dataclass(frozen=True, slots=True)
class TreeNode:
    """One attempt in the search tree, failed ones included (they can be repaired or abandoned)."""

    id: int
    score: float
    correct: bool
    children: int


@dataclass(frozen=True, slots=True)
class SamplerSettings:
    strategy: str = "pareto_tournament"
    tournament_size: int = 3
    inspirations: int = 2
    epsilon_min: float = 0.1
    epsilon_max: float = 0.6
    patience: int = 8
    expansion_penalty: float = 0.25


def uniform_pick(members: Sequence[Individual], rng: random.Random) -> Individual:
    return members[rng.randrange(len(members))]


def tournament_pick(members: Sequence[Individual], rng: random.Random, size: int,
                    fronts: Fronts | None = None) -> Individual:
    """`fronts`: the members' fronts when the caller keeps them (an island does), else sorted here."""
    fronts = fronts if fronts is not None else ranked(members)
    contestants = rng.sample(range(len(members)), min(size, len(members)))
    winner = min(contestants, key=lambda i: (fronts.rank(members[i].id), -fronts.crowding(members[i].id),
                                             members[i].id))
    return members[winner]


def epsilon(stagnation: int, settings: SamplerSettings) -> float:
    ramp = min(1.0, stagnation / max(1, settings.patience))
    return settings.epsilon_min + (settings.epsilon_max - settings.epsilon_min) * ramp


def epsilon_greedy_pick(nodes: Sequence[TreeNode], rng: random.Random, stagnation: int,
                        settings: SamplerSettings) -> TreeNode:
    """`nodes` by id.  Exploring takes the first node at or after an id drawn uniformly between the first node's and
    the last's: nearly uniform (most ids are nodes), and found in the database by one index probe per status
    rather than by counting the whole tree."""
    if rng.random() < epsilon(stagnation, settings):
        target = rng.randint(nodes[0].id, nodes[-1].id)
        return nodes[bisect.bisect_left([n.id for n in nodes], target)]
    correct = [n for n in nodes if n.correct] or list(nodes)
    return max(correct, key=lambda n: (n.score / (1.0 + settings.expansion_penalty * n.children), -n.id))


def pick_inspirations(members: Sequence[Individual], parent_id: int, count: int, rng: random.Random,
                      fronts: Fronts | None = None) -> list[Individual]:
    """The best-ranked others (ranked among themselves), ties broken by the RNG so equal programs take turns.
    `fronts`: the members' fronts when the caller keeps them; the parent is taken out and put back."""
    others = [m for m in members if m.id != parent_id]
    if not others:
        return []
    if fronts is None:
        fronts, parent = ranked(others), None
    else:
        parent = fronts.points.get(parent_id)
        if parent is not None:
            fronts.remove(parent_id)
    try:
        jitter = [rng.random() for _ in others]
        order = sorted(range(len(others)), key=lambda i: (fronts.rank(others[i].id), -fronts.crowding(others[i].id),
                                                          jitter[i]))
    finally:
        if parent is not None:
            fronts.add(parent_id, parent)
    return [others[i] for i in order[:count]]
