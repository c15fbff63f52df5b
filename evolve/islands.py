"""The population as the database holds it: admitting programs, ring migration, and parent sampling."""

from __future__ import annotations

import random
from dataclasses import dataclass

from evolve.config import EvolveSection
from evolve.db.store import ProgramStore
from evolve.population import Individual, migrants, trim_island
from evolve.records import ProgramRecord, Status
from evolve.sampling import SamplerSettings, epsilon, pick_inspirations, tournament_pick, uniform_pick


@dataclass(frozen=True, slots=True)
class Selection:
    parent: ProgramRecord
    inspirations: tuple[ProgramRecord, ...]
    island: int


def individual(record: ProgramRecord) -> Individual:
    return Individual(record.id, record.island, tuple(record.objectives), record.features, record.score or 0.0,
                      record.parent_id, record.fingerprint)


class IslandModel:
    def __init__(self, store: ProgramStore, campaign_id: int, settings: EvolveSection):
        self.store, self.campaign_id, self.settings = store, campaign_id, settings
        self.sampler = SamplerSettings(settings.sampler, settings.tournament_size, settings.inspirations,
                                       settings.epsilon_min, settings.epsilon_max, settings.patience)

    def members(self, island: int | None = None) -> list[ProgramRecord]:
        members = self.store.programs(self.campaign_id, in_population=True)
        return [m for m in members if island is None or m.island == island]

    def admit(self, program_id: int) -> list[int]:
        """Add a correct program to its island and trim it; return the evicted ids."""
        record = self.store.program(program_id)
        residents = [individual(m) for m in self.members(record.island)] + [individual(record)]
        kept, evicted = trim_island(residents, self.settings.island_capacity, self.settings.features)
        self.store.set_population(self.campaign_id, [m.id for m in kept], [m.id for m in evicted])
        return [m.id for m in evicted]

    def migrate(self, attempt: int) -> list[int]:
        """Copy each island's best to the next island (new rows, parent = the original), then admit them."""
        copies = []
        for member, destination in migrants([individual(m) for m in self.members()], self.settings.islands):
            copies.append(self.store.clone_to_island(member.id, destination, attempt))
        for copy in copies:
            self.admit(copy)
        return copies

    def select(self, rng: random.Random, stagnation: int) -> Selection:
        island = rng.randrange(self.settings.islands)
        members = self.members(island) or self.members()
        if self.settings.sampler == "epsilon_greedy":
            parent = self._tree_pick(rng, stagnation)
        else:
            people = [individual(m) for m in members]
            pick = (uniform_pick(people, rng) if self.settings.sampler == "uniform"
                    else tournament_pick(people, rng, self.sampler.tournament_size))
            parent = next(m for m in members if m.id == pick.id)
        chosen = pick_inspirations([individual(m) for m in members], parent.id, self.settings.inspirations, rng)
        by_id = {m.id: m for m in members}
        return Selection(parent, tuple(by_id[c.id] for c in chosen), island)

    def _tree_pick(self, rng: random.Random, stagnation: int) -> ProgramRecord:
        """`epsilon_greedy_pick` done inside the database (same RNG draws, same answer) so it never loads the tree."""
        statuses = [Status.EVALUATED, Status.FAILED]
        if rng.random() < epsilon(stagnation, self.sampler):
            index = rng.randrange(self.store.count_nodes(self.campaign_id, statuses))
            return self.store.program(self.store.nth_node(self.campaign_id, statuses, index))
        return self.store.program(self.store.best_node(self.campaign_id, statuses, self.sampler.expansion_penalty))
