"""The same program database on a real PostgreSQL server (started by the test, installed by .ci/run); whole
campaigns on PostgreSQL, killed and resumed, are in tests/faults/test_postgres_faults.py."""

from evolve.db import ProgramStore
from evolve.db.migrations import current_version
from evolve.db.models import SCHEMA_VERSION
from evolve.records import Status


def test_round_trip_and_queries_on_postgres(postgres_url):
    store = ProgramStore(postgres_url)
    assert current_version(store.engine) == SCHEMA_VERSION
    campaign = store.create_campaign("pg", "level1/relu", {"a": [1, 2]})
    seed = store.add_program(campaign, attempt=0, source="s", parent_id=None, island=0, generation=0, origin="seed")
    child = store.add_program(campaign, attempt=1, source="c", parent_id=seed, island=1, generation=1,
                              origin="mutation")
    store.record_evaluation(child, {"failure": None, "speedup_vs_eager": 2.5, "stages": []}, objectives=[2.5, -1.0],
                            features={"code_lines": 1.0})
    store.set_population(campaign, [child], [])
    assert store.best_program(campaign).id == child
    assert store.tree_nodes(campaign, [Status.EVALUATED]) == [(child, 2.5, True, 0)]
    assert store.best_node(campaign, [Status.EVALUATED, Status.PROPOSED], 0.25) == child
    assert store.program(seed).parent_id is None and store.children(seed)[0].id == child
    store.close()
    reopened = ProgramStore(postgres_url, create=False)
    assert reopened.campaign(reopened.campaign_id("pg"))["config"] == {"a": [1, 2]}
    reopened.close()


def test_the_viewers_change_probe_and_program_feed_on_postgres(postgres_url):
    """PostgreSQL has no data_version: the probe reads indexed maxima and the heartbeat, and still sees every
    change the viewer shows; the feed sends only changed rows."""
    from evolve.viewer.change_probe import ChangeProbe
    from evolve.viewer.program_feed import ProgramFeed

    store = ProgramStore(postgres_url)
    try:
        campaign = store.create_campaign("probed", "level1/relu", {})
        seed = store.add_program(campaign, attempt=0, source="# seed", parent_id=None, island=0, generation=0,
                                 origin="seed")
        probe, feed = ChangeProbe(store, campaign), ProgramFeed(store, campaign)
        before = probe.version()
        assert probe.version() == before, "nothing changed, nothing read as changed"
        feed.refresh()
        cursor = feed.since("")["cursor"]
        store.record_evaluation(seed, {"speedup_vs_eager": 1.2, "stages": []}, objectives=[1.2], features={})
        after_evaluation = probe.version()
        assert after_evaluation != before
        store.save_state(campaign, {"elapsed_s": 3.0})                   # a heartbeat alone
        assert probe.version() != after_evaluation
        feed.refresh()
        [row] = feed.since(cursor)["rows"]
        assert row[0] == seed and dict(zip(feed.since("")["columns"], row))["score"] == 1.2
        probe.close()
    finally:
        store.close()
