"""Property tests of the population on a real program database: whatever stream of proposals, ties and
migrations a campaign meets, no island exceeds its capacity or holds a program twice, and no code is evaluated
twice however it is rewritten."""

import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from evolve.config import EvolveSection
from evolve.db.store import ProgramStore
from evolve.islands import IslandModel
from evolve.novelty import find_repeat
from evolve.population import FeatureSpec, ObjectiveSpec
from evolve.records import Status

BODIES = ["return x * 2", "return x + x", "return torch.relu(x)", "return x.clamp_min(0)", "return x.abs()",
          "return -x", "return x ** 2", "return torch.sigmoid(x)"]
DISGUISES = [
    lambda s: s,
    lambda s: "# rewritten\n" + s,
    lambda s: s.replace("(x)", "( x )").replace("    return", "    return ") + "\n\n",
    lambda s: s.replace("def forward(self, x):", 'def forward(self, x):\n        """Faster."""'),
]
CAPACITY = 3
ISLANDS = 3


def program(body: str, disguise: int) -> str:
    source = f"import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        {body}\n"
    return DISGUISES[disguise](source)


class Campaign(RuleBasedStateMachine):
    """Drives the store and island model the way the campaign loop does: the twin check before evaluating,
    admission after, ring migration now and then."""

    @initialize()
    def open_store(self):
        self.directory = tempfile.TemporaryDirectory()
        self.store = ProgramStore(Path(self.directory.name) / "run.db")
        self.campaign = self.store.create_campaign("p", "level1/relu", {})
        self.settings = EvolveSection(islands=ISLANDS, island_capacity=CAPACITY, migration_interval=1,
                                      objectives=(ObjectiveSpec("speedup"), ObjectiveSpec("code_size", "min")),
                                      features=(FeatureSpec("code_lines", (7.0,)),))
        self.islands = IslandModel(self.store, self.campaign, self.settings)
        self.attempt = 0
        self.evaluated: list[str] = []

    def teardown(self):
        if hasattr(self, "store"):
            self.store.close()
            self.directory.cleanup()

    @rule(body=st.sampled_from(BODIES), disguise=st.integers(0, len(DISGUISES) - 1),
          island=st.integers(0, ISLANDS - 1), speedup=st.sampled_from([1.0, 2.0, 2.0]),
          passes=st.booleans())
    def propose(self, body, disguise, island, speedup, passes):
        self.attempt += 1
        source = program(body, disguise)
        repeat = find_repeat(self.store, self.campaign, source, [], 0.0)
        if repeat is not None:
            self.store.add_program(self.campaign, attempt=self.attempt, source=source, parent_id=repeat.original,
                                   island=island, generation=1, origin="mutation", status=repeat.status,
                                   duplicate_of=repeat.original)
            return
        pid = self.store.add_program(self.campaign, attempt=self.attempt, source=source, parent_id=None,
                                     island=island, generation=1, origin="mutation")
        self.evaluated.append(source)
        failure = None if passes else {"stage": "verify", "kind": "mismatch", "message": "wrong"}
        self.store.record_evaluation(pid, {"failure": failure, "speedup_vs_eager": speedup},
                                     objectives=(speedup, -100.0) if passes else (),
                                     features={"code_lines": float(len(source.splitlines()))})
        if passes:
            self.islands.admit(pid)

    @rule()
    def migrate(self):
        self.islands.migrate(self.attempt)

    @invariant()
    def islands_hold_their_capacity_and_no_program_twice(self):
        if not hasattr(self, "store"):
            return
        for island in range(ISLANDS):
            members = self.islands.members(island)
            assert len(members) <= CAPACITY
            assert len({m.fingerprint for m in members}) == len(members)

    @invariant()
    def the_islands_in_memory_are_the_database_population(self):
        if not hasattr(self, "store"):
            return
        assert self.islands.residents() == self.store.population(self.campaign)
        fresh = IslandModel(self.store, self.campaign, self.settings)
        fresh.residents()
        for island in range(ISLANDS):
            assert self.islands._fronts[island].level == fresh._fronts[island].level

    @invariant()
    def no_code_is_evaluated_twice(self):
        if not hasattr(self, "store"):
            return
        went = [p for p in self.store.programs(self.campaign, statuses=Status.EVALUATION_BOUND)
                if p.origin != "migration"]
        assert len({p.fingerprint for p in went}) == len(went) == len(self.evaluated)
        assert all(self.store.evaluations(p.id) for p in went)


TestCampaign = Campaign.TestCase
TestCampaign.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_the_best_program_survives_a_stagnant_island_full_of_ties(tmp_path):
    """The measured failure: every program ties, the island filled with copies and kept them all."""
    store = ProgramStore(tmp_path / "run.db")
    campaign = store.create_campaign("p", "level1/relu", {})
    islands = IslandModel(store, campaign, EvolveSection(islands=2, island_capacity=2, migration_interval=1))
    for attempt, body in enumerate(BODIES * 3):
        source = program(body, attempt % len(DISGUISES))
        if find_repeat(store, campaign, source, [], 0.0) is not None:
            continue
        pid = store.add_program(campaign, attempt=attempt, source=source, parent_id=None, island=attempt % 2,
                                generation=1, origin="mutation")
        store.record_evaluation(pid, {"speedup_vs_eager": 1.5}, objectives=(1.5, -100.0), features={})
        islands.admit(pid)
        islands.migrate(attempt)
    for island in range(2):
        assert len(islands.members(island)) <= 2
    assert sum(p.origin != "migration" for p in store.programs(campaign)) == len(BODIES)
    store.close()


def test_a_rolled_back_admission_leaves_no_trace_in_the_islands(tmp_path):
    """The islands are kept in memory: a transaction that fails after admitting must not leave them ahead of the
    database."""
    store = ProgramStore(tmp_path / "run.db")
    campaign = store.create_campaign("p", "level1/relu", {})
    islands = IslandModel(store, campaign, EvolveSection(islands=1, island_capacity=4))
    first = store.add_program(campaign, attempt=1, source=program(BODIES[0], 0), parent_id=None, island=0,
                              generation=1, origin="mutation")
    store.record_evaluation(first, {"speedup_vs_eager": 1.0}, objectives=(1.0, -100.0), features={})
    islands.admit(first)
    second = store.add_program(campaign, attempt=2, source=program(BODIES[1], 0), parent_id=None, island=0,
                               generation=1, origin="mutation")
    store.record_evaluation(second, {"speedup_vs_eager": 2.0}, objectives=(2.0, -100.0), features={})
    try:
        with store.atomic():
            islands.admit(second)
            assert [m.id for m in islands.residents()] == [first, second]
            raise RuntimeError("disk full")
    except RuntimeError:
        pass
    assert [m.id for m in islands.residents()] == [first] == [m.id for m in store.population(campaign)]
    store.close()
