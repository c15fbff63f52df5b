"""Near-duplicate rejection in a whole campaign (offline mutator, real Ray actors and evaluators): a tweak too close
to its parent is recorded with the program it repeats and sent back for a new plan; past the cap it is evaluated."""

import json

from evolve.db.store import ProgramStore
from evolve.launch import start_campaign
from evolve.records import Status
from tests.conftest import REPO


def test_near_duplicates_are_re_planned_then_evaluated_past_the_cap(ray_session, tmp_path):
    overrides = ["budget.iterations=4", "pipeline.proposals_in_flight=1", "evolve.novelty.similarity=0.5",
                 "evolve.novelty.replans=2"]
    summary = start_campaign(REPO / "runs" / "scratchpad_offline.toml", runs_root=tmp_path, show_progress=False,
                             overrides=overrides)
    assert summary.status == "finished" and summary.attempts == 4
    store = ProgramStore(tmp_path / "scratchpad-offline" / "campaign.db", create=False)
    campaign = store.campaign_id("scratchpad-offline")
    for attempt in range(1, 5):
        rows = [p for p in store.programs(campaign) if p.attempt == attempt and p.origin != "migration"]
        assert [p.status for p in rows[:-1]] == [Status.NEAR_DUPLICATE] * 2     # every tweak is > 50% alike
        assert rows[-1].status in (Status.EVALUATED, Status.FAILED) and store.evaluations(rows[-1].id)
        for near in rows[:-1]:
            assert near.duplicate_of is not None and "% of its normalized code in common" in near.note
            assert not store.evaluations(near.id)
        assert len({p.strategy for p in rows}) == len(rows)                      # each re-plan tried something new
    log = [json.loads(line) for line in (tmp_path / "scratchpad-offline" / "campaign.log").read_text().splitlines()]
    assert sum(entry.get("event") == "re-plan" for entry in log) == 8
    store.close()
