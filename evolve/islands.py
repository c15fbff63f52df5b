"""The population as the database holds it: admitting programs, ring migration, and parent sampling."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from evolve.config import EvolveSection
from evolve.db.store import ProgramStore
from evolve.pareto import Fronts
from evolve.population import Individual, migrants, ranked, trim_island
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
    """The islands' members live in memory with their fronts (bounded by the islands' capacity), so ranking and
    sampling never query the database; it is read once, and again after a rolled-back write (the copy may then
    hold what never committed).  Every change is written through in the caller's transaction."""

    def __init__(self, store: ProgramStore, campaign_id: int, settings: EvolveSection):
        self.store, self.campaign_id, self.settings = store, campaign_id, settings
        self.sampler = SamplerSettings(settings.sampler, settings.tournament_size, settings.inspirations,
                                       settings.epsilon_min, settings.epsilon_max, settings.patience)
        self._islands: dict[int, dict[int, Individual]] | None = None
        self._fronts: dict[int, Fronts] = {}
        self._records: dict[int, ProgramRecord] = {}
        """Members' full rows (sources included), read when first sent to an agent: a member's row does not
        change while it is a member, and parents and inspirations are drawn from the members."""
        store.on_rollback(self.forget)

    def forget(self) -> None:
        self._islands = None
        self._records.clear()

    def records(self, ids: list[int]) -> list[ProgramRecord]:
        """Those members' rows, from memory where they were read before."""
        missing = [i for i in ids if i not in self._records]
        if missing:
            for record in self.store.programs_by_id(missing):
                self._records[record.id] = record
        return [self._records[i] for i in ids if i in self._records]

    def _loaded(self) -> dict[int, dict[int, Individual]]:
        if self._islands is None:
            islands: dict[int, dict[int, Individual]] = {i: {} for i in range(self.settings.islands)}
            for member in self.store.population(self.campaign_id):
                islands.setdefault(member.island, {})[member.id] = member
            self._fronts = {i: ranked(sorted(members.values(), key=lambda m: m.id)) for i, members in islands.items()}
            self._islands = islands
        return self._islands

    def residents(self, island: int | None = None) -> list[Individual]:
        """Members without their sources, by id."""
        islands = self._loaded()
        chosen = islands.values() if island is None else [islands.get(island, {})]
        return sorted((m for members in chosen for m in members.values()), key=lambda m: m.id)

    def members(self, island: int | None = None) -> list[ProgramRecord]:
        """Members with their sources (for callers that read code)."""
        return self.records([m.id for m in self.residents(island)])

    def admit(self, program_id: int, resident: Individual | None = None) -> list[int]:
        """Add a correct program to its island and trim it; return the evicted ids.  `resident`: the program as
        ranking sees it, when the caller has it at hand (else it is read)."""
        resident = resident or self.store.individual(program_id)
        try:
            islands = self._loaded()
            members = islands.setdefault(resident.island, {})
            fronts = self._fronts.setdefault(resident.island, Fronts())
            members[resident.id] = resident
            fronts.add(resident.id, resident.objectives)
            _, evicted = trim_island(list(members.values()), self.settings.island_capacity, self.settings.features,
                                     fronts)
            for member in evicted:
                del members[member.id]
                self._records.pop(member.id, None)
            self.store.set_population(self.campaign_id, [resident.id] if resident.id in members else [],
                                      [m.id for m in evicted])
        except BaseException:
            self.forget()
            raise
        return [m.id for m in evicted]

    def migrate(self, attempt: int) -> list[int]:
        """Copy each island's best to the next island (new rows, parent = the original), then admit them."""
        copies = []
        for member, destination in migrants(self.residents(), self.settings.islands):
            copy = self.store.clone_to_island(member.id, destination, attempt)
            copies.append((copy, replace(member, id=copy, island=destination, parent_id=member.id)))
        for copy, resident in copies:
            self.admit(copy, resident)
        return [copy for copy, _ in copies]

    def select(self, rng: random.Random, stagnation: int) -> Selection:
        island = rng.randrange(self.settings.islands)
        people = self.residents(island)
        fronts = self._fronts.get(island)
        if not people:
            people, fronts = self.residents(), None
        if self.settings.sampler == "epsilon_greedy":
            parent = self._tree_pick(rng, stagnation)
        else:
            pick = (uniform_pick(people, rng) if self.settings.sampler == "uniform"
                    else tournament_pick(people, rng, self.sampler.tournament_size, fronts))
            parent = None
        chosen = pick_inspirations(people, parent.id if parent else pick.id, self.settings.inspirations, rng, fronts)
        wanted = [c.id for c in chosen] if parent else [pick.id, *(c.id for c in chosen)]
        records = self.records(wanted)
        if parent is None:
            parent, records = records[0], records[1:]
        return Selection(parent, tuple(records), island)

    def _tree_pick(self, rng: random.Random, stagnation: int) -> ProgramRecord:
        """`epsilon_greedy_pick` done inside the database (same RNG draws, same answer) by index probes, so it
        neither loads nor scans the tree."""
        statuses = [Status.EVALUATED, Status.FAILED]
        if rng.random() < epsilon(stagnation, self.sampler):
            first = self.store.first_node_from(self.campaign_id, statuses, 0)
            target = rng.randint(first, self.store.last_node(self.campaign_id, statuses))
            return self.store.program(self.store.first_node_from(self.campaign_id, statuses, target))
        return self.store.program(self.store.best_node(self.campaign_id, statuses, self.sampler.expansion_penalty))
