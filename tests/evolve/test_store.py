"""The program database on SQLite: round trips, migrations of old files, WAL, and clear errors."""

import sqlite3

import pytest
from sqlalchemy import text

from evolve.db import MIGRATIONS, ProgramStore, StoreError
from evolve.db.migrations import current_version
from evolve.db.models import SCHEMA_VERSION
from evolve.records import Status


@pytest.fixture
def store(tmp_path):
    s = ProgramStore(tmp_path / "run.db")
    yield s
    s.close()


def add(store, campaign, attempt, parent=None, source="x = 1\n"):
    return store.add_program(campaign, attempt=attempt, source=source, parent_id=parent, island=0,
                             generation=0 if parent is None else 1, origin="seed" if parent is None else "mutation")


def test_program_and_evaluation_round_trip(store):
    campaign = store.create_campaign("c", "level1/relu", {"seed": 1})
    seed = add(store, campaign, 0)
    child = add(store, campaign, 1, parent=seed, source="y = 2\n")
    store.record_evaluation(seed, {"failure": None, "speedup_vs_eager": 1.0, "stages": []}, objectives=[1.0, -6],
                            features={"lines": 1})
    store.record_evaluation(child, {"failure": {"stage": "verify", "kind": "mismatch", "message": "m"}, "stages": []},
                            objectives=[], features={})
    assert store.program(seed).status == Status.EVALUATED and store.program(seed).correct
    assert store.program(child).status == Status.FAILED and store.program(child).parent_id == seed
    assert store.best_program(campaign).id == seed
    assert store.status_counts(campaign) == {Status.EVALUATED: 1, Status.FAILED: 1}
    assert store.attempts_recorded(campaign) == 2
    assert store.evaluations(child)[0]["failure"]["kind"] == "mismatch"


def test_eviction_marks_rows_and_keeps_lineage(store):
    campaign = store.create_campaign("c", "p", {})
    seed = add(store, campaign, 0)
    child = add(store, campaign, 1, parent=seed)
    store.set_population(campaign, [seed, child], [])
    store.set_population(campaign, [], [seed])
    assert [p.id for p in store.programs(campaign, in_population=True)] == [child]
    assert store.program(child).parent_id == seed and store.program(seed).in_population is False


def test_sqlite_uses_wal(store, tmp_path):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_reopen_keeps_everything(tmp_path):
    first = ProgramStore(tmp_path / "run.db")
    campaign = first.create_campaign("c", "p", {"a": 1})
    add(first, campaign, 0)
    first.save_state(campaign, {"rng": [1, 2, 3]})
    first.close()
    again = ProgramStore(tmp_path / "run.db", create=False)
    assert again.campaign(again.campaign_id("c"))["state"] == {"rng": [1, 2, 3]}
    assert len(again.programs(campaign)) == 1
    again.close()


def test_old_database_is_migrated_forward(tmp_path, monkeypatch):
    """A file stamped at the current version opens in a 'newer stark' whose migration adds a column."""
    old = ProgramStore(tmp_path / "run.db")
    campaign = old.create_campaign("c", "p", {})
    add(old, campaign, 0)
    old.close()
    newer = SCHEMA_VERSION + 1
    monkeypatch.setitem(MIGRATIONS, newer, ["ALTER TABLE programs ADD COLUMN notes TEXT DEFAULT ''"])
    monkeypatch.setattr("evolve.db.migrations.SCHEMA_VERSION", newer)
    monkeypatch.setattr("evolve.db.engine.migrate_schema",
                        lambda engine, **kw: __import__("evolve.db.migrations", fromlist=["migrate"]).migrate(engine, newer, **kw))
    reopened = ProgramStore(tmp_path / "run.db", create=False)
    assert current_version(reopened.engine) == newer
    with reopened.engine.connect() as conn:
        assert conn.execute(text("SELECT notes, source FROM programs")).one() == ("", "x = 1\n")
    reopened.close()


def undo_v5(conn) -> None:
    conn.execute(text("DROP INDEX ix_programs_fingerprint"))
    for column in ("fingerprint", "duplicate_of"):
        conn.execute(text(f"ALTER TABLE programs DROP COLUMN {column}"))


def test_v4_database_gets_fingerprints_so_old_programs_have_twins(tmp_path):
    store = ProgramStore(tmp_path / "run.db")
    campaign = store.create_campaign("c", "p", {})
    first = add(store, campaign, 0)
    store.record_evaluation(first, {"speedup_vs_eager": 1.0}, objectives=(1.0,), features={})
    with store.engine.begin() as conn:
        undo_v5(conn)
        conn.execute(text("UPDATE schema_info SET version = 4"))
    store.close()
    reopened = ProgramStore(tmp_path / "run.db", create=False)
    source = reopened.program(first).source
    assert reopened.program(first).fingerprint and reopened.twin_of(campaign, source + "\n# same\n") == first
    reopened.close()


def test_v1_database_keeps_its_scores_under_the_renamed_column(tmp_path):
    """v1 called the primary score `speedup`; v2 renames it `score` in place."""
    store = ProgramStore(tmp_path / "run.db")
    campaign = store.create_campaign("c", "p", {})
    program = add(store, campaign, 0)
    store.record_evaluation(program, {"speedup_vs_eager": 1.5}, objectives=(1.5,), features={})
    with store.engine.begin() as conn:                  # turn the file back into what v1 wrote
        undo_v5(conn)
        conn.execute(text("ALTER TABLE programs RENAME COLUMN score TO speedup"))
        conn.execute(text("DROP TABLE attempts"))
        for column in ("finish_reason", "prompt_z", "response_z"):
            conn.execute(text(f"ALTER TABLE llm_calls DROP COLUMN {column}"))
        conn.execute(text("UPDATE schema_info SET version = 1"))
    store.close()
    reopened = ProgramStore(tmp_path / "run.db", create=False)
    assert current_version(reopened.engine) == SCHEMA_VERSION == 5
    assert reopened.program(program).score == 1.5
    reopened.close()


def test_v2_database_gets_an_attempt_ledger_with_its_unscored_attempts_open(tmp_path):
    store = ProgramStore(tmp_path / "run.db")
    campaign = store.create_campaign("c", "p", {})
    for attempt, status in ((1, "evaluated"), (2, "proposed"), (3, "invalid")):
        store.add_program(campaign, attempt=attempt, source="x = 1\n", parent_id=None, island=0, generation=1,
                          origin="mutation", status=status)
    with store.engine.begin() as conn:                  # what v2 wrote: no ledger
        undo_v5(conn)
        conn.execute(text("DROP TABLE attempts"))
        for column in ("finish_reason", "prompt_z", "response_z"):
            conn.execute(text(f"ALTER TABLE llm_calls DROP COLUMN {column}"))
        conn.execute(text("UPDATE schema_info SET version = 2"))
    store.close()
    reopened = ProgramStore(tmp_path / "run.db", create=False)
    assert reopened.unfinished_attempts(campaign) == [2] and reopened.attempts_done(campaign) == 2
    reopened.close()


def test_read_only_opening_writes_nothing_and_refuses_to_migrate(tmp_path):
    path = tmp_path / "run.db"
    store = ProgramStore(path)
    campaign = store.create_campaign("c", "p", {})
    add(store, campaign, 0)
    store.close()
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    reader = ProgramStore(path, create=False, read_only=True)
    assert len(reader.programs(campaign)) == 1
    with pytest.raises(StoreError, match="read-only"):
        add(reader, campaign, 1)
    reader.close()
    after = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    assert after["run.db"] == before["run.db"] and not after.get("run.db-wal")   # at most an empty WAL index
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_info SET version = 2")
    with pytest.raises(StoreError, match="needs migrating.*stark resume"):
        ProgramStore(path, create=False, read_only=True)


def test_an_empty_database_file_is_refused_never_reinitialized(tmp_path):
    empty = tmp_path / "campaign.db"
    empty.touch()
    for kwargs in ({"create": False}, {"create": False, "read_only": True}):
        with pytest.raises(StoreError, match="empty \\(0 bytes\\)"):
            ProgramStore(empty, **kwargs)
    assert empty.stat().st_size == 0


def test_atomic_commits_all_or_nothing(tmp_path):
    store = ProgramStore(tmp_path / "run.db")
    campaign = store.create_campaign("c", "p", {})
    with pytest.raises(RuntimeError):
        with store.atomic():
            program = add(store, campaign, 0)
            store.begin_attempt(campaign, 1)
            assert store.program(program).source          # visible inside the transaction
            raise RuntimeError("disk full, say")
    assert store.programs(campaign) == [] and store.unfinished_attempts(campaign) == []
    with store.atomic():
        add(store, campaign, 0)
        store.begin_attempt(campaign, 1)
    assert len(store.programs(campaign)) == 1 and store.unfinished_attempts(campaign) == [1]
    store.close()


def test_newer_database_is_refused(tmp_path):
    store = ProgramStore(tmp_path / "run.db")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE schema_info SET version = 999"))
    store.close()
    with pytest.raises(StoreError, match="newer than this stark"):
        ProgramStore(tmp_path / "run.db")


def test_corrupt_and_missing_files_are_one_line_errors(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open run database .*: file is not a database"):
        ProgramStore(corrupt)
    assert corrupt.read_bytes().startswith(b"this is not a database")
    with pytest.raises(StoreError, match="run database not found"):
        ProgramStore(tmp_path / "absent.db", create=False)
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE other (x)").connection.commit()
    with pytest.raises(StoreError, match="not a stark run database"):
        ProgramStore(foreign)


def test_tree_nodes_count_children_without_loading_sources(store):
    campaign = store.create_campaign("c", "p", {})
    root = add(store, campaign, 0)
    kids = [add(store, campaign, i, parent=root) for i in (1, 2)]
    add(store, campaign, 3, parent=kids[0])
    for pid in [root, *kids]:
        store.record_evaluation(pid, {"failure": None, "speedup_vs_eager": 1.0 + pid, "stages": []},
                                objectives=[1.0], features={})
    nodes = store.tree_nodes(campaign, [Status.EVALUATED])
    assert nodes == [(root, 2.0, True, 2), (kids[0], 3.0, True, 1), (kids[1], 4.0, True, 0)]
    assert [c.id for c in store.children(root)] == kids


def test_tree_pick_in_the_database_matches_the_reference_sampler(store):
    """IslandModel's SQL version of epsilon-greedy draws the same node as the pure function, seed for seed."""
    import random

    from evolve.config import EvolveSection
    from evolve.islands import IslandModel
    from evolve.sampling import TreeNode, epsilon_greedy_pick

    campaign = store.create_campaign("c", "p", {})
    rng = random.Random(5)
    ids = [add(store, campaign, 0)]
    for attempt in range(1, 40):
        ids.append(add(store, campaign, attempt, parent=rng.choice(ids)))
        if rng.random() < 0.7:
            store.record_evaluation(ids[-1], {"failure": None, "speedup_vs_eager": round(rng.random() * 3, 1),
                                              "stages": []}, objectives=[1.0], features={})
        else:
            store.record_evaluation(ids[-1], {"failure": {"stage": "verify", "kind": "mismatch", "message": ""},
                                              "stages": []}, objectives=[], features={})
    model = IslandModel(store, campaign, EvolveSection(sampler="epsilon_greedy", epsilon_min=0.3, epsilon_max=0.9))
    nodes = [TreeNode(*row) for row in store.tree_nodes(campaign, [Status.EVALUATED, Status.FAILED])]
    for seed in range(60):
        stagnation = seed % 12
        reference_rng = random.Random(seed)
        reference_rng.randrange(model.settings.islands)
        expected = epsilon_greedy_pick(nodes, reference_rng, stagnation, model.sampler).id
        assert model.select(random.Random(seed), stagnation).parent.id == expected


def test_viewer_llm_totals_per_role_count_every_call_not_only_those_listed(store):
    from evolve.viewer.queries import llm_calls
    from stark.llm.records import LLMCallRecord

    campaign = store.create_campaign("c", "p", {})
    store.add_llm_calls(campaign, 1, [LLMCallRecord("coder", "m", "ok", 10, 5, 0.1, 0.01, "h")] * 600)
    store.add_llm_calls(campaign, 2, [LLMCallRecord("planner", "m", "ok", 3, 1, 0.1, 0.002, "h")] * 7)
    listed = llm_calls(store, campaign, limit=500)
    assert len(listed["calls"]) == 500
    assert listed["by_role"]["coder"] == {"calls": 600, "tokens": 9000, "cost_usd": pytest.approx(6.0)}
    assert listed["by_role"]["planner"]["calls"] == 7


def test_the_tree_pick_probes_indexes_instead_of_scanning_the_tree(store):
    """ε-greedy's exploit step reads the discounted-score index (made on first use), so it does not grow with the
    tree; its explore step probes by id."""
    campaign = store.create_campaign("c", "p", {})
    root = add(store, campaign, 0)
    for attempt in range(1, 6):
        pid = add(store, campaign, attempt, parent=root)
        store.record_evaluation(pid, {"failure": None, "speedup_vs_eager": 1.0 + attempt, "stages": []},
                                objectives=[1.0], features={})
    statuses = [Status.EVALUATED, Status.FAILED]
    assert store.best_node(campaign, statuses, 0.5) == pid
    with store.engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM programs WHERE campaign_id = 1 AND correct = 1 "
            "AND status IN ('evaluated', 'failed') ORDER BY (coalesce(score, 0.0) / (1.0 + 0.5 * children)) DESC, "
            "id LIMIT 1").fetchall()
    assert "USING INDEX ix_programs_priority_0_5" in str(plan)
    assert store.first_node_from(campaign, statuses, pid - 2) == pid - 2
    assert store.last_node(campaign, statuses) == pid
