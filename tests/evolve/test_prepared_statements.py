"""The loop's statements run prepared on SQLite's cursor write exactly the rows SQLAlchemy Core writes, read back
the same values, and fail with the same SQLAlchemy errors."""

import dataclasses
import re
import sqlite3
import zlib
from types import SimpleNamespace

import pytest
from sqlalchemy.exc import IntegrityError

from evolve.db import ProgramStore
from evolve.records import Status

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


def llm_call(role: str, **extra) -> SimpleNamespace:
    fields = dict(role=role, model="m", status="ok", prompt_tokens=12, completion_tokens=3, latency_s=0.25,
                  cost_usd=0.0, prompt_hash="h" * 64, error="", finish_reason="stop",
                  prompt_z=zlib.compress(b'[{"role": "user"}]'), response_z=b"")
    return SimpleNamespace(**{**fields, **extra})


def campaign_history(store: ProgramStore) -> dict:
    """Every statement the loop runs, in the loop's mix: what each returns is kept to be compared too."""
    returned = {}
    campaign = store.create_campaign("c", "level1/relu", {"seed": 1})
    store.begin_attempt(campaign, 0)
    seed = store.add_program(campaign, attempt=0, source="x = 1\n", parent_id=None, island=0, generation=0,
                             origin="seed")
    store.record_evaluation(seed, {"failure": None, "speedup_vs_eager": 1.25, "stages": ["verify"],
                                   "profile": {"candidate": {"median_us": 3.5}}},
                            objectives=[1.25, -6.0], features={"lines": 1, "tile": None})
    store.set_population(campaign, [seed], [])
    store.end_attempt(campaign, 0, "evaluated", seed)
    with store.atomic():
        store.begin_attempt(campaign, 1)
        child = store.add_program(campaign, attempt=1, source="y = 2\n", parent_id=seed, island=1, generation=1,
                                  origin="mutation", strategy="unroll", diff="-x\n+y", note="n",
                                  known_fingerprint="f" * 32)
        store.record_evaluation(child, {"failure": {"stage": "verify", "kind": "mismatch", "message": "m"},
                                        "stages": []}, objectives=[], features={})
        twin = store.add_program(campaign, attempt=1, source="x = 1\n", parent_id=seed, island=0, generation=1,
                                 origin="mutation", status=Status.DUPLICATE, duplicate_of=seed)
        provisional = store.add_program(campaign, attempt=1, source="z = 3\n", parent_id=seed, island=0,
                                        generation=1, origin="mutation")
        store.record_evaluation(provisional, {"failure": None, "speedup_vs_eager": 9.0}, objectives=[9.0],
                                features={}, provisional=True)
        store.record_evaluation(provisional, {"failure": None, "speedup_vs_eager": None}, objectives=[1.0],
                                features={"a": [1, 2]}, untimed=True)
        store.end_attempt(campaign, 1, "failed", child)
    migrant = store.clone_to_island(seed, 3, 2)
    store.set_population(campaign, [migrant, provisional], [seed, twin])
    store.set_status(twin, Status.FAILED)
    store.add_llm_calls(campaign, 1, [llm_call("planner"), llm_call("coder", finish_reason=None, prompt_z=b"",
                                                                     error="timeout", status="error")])
    store.add_llm_calls(campaign, None, [])
    store.save_state(campaign, {"next_attempt": 3, "islands": [[1, 2], []], "none": None})
    returned["twin of x = 1"] = store.twin_of(campaign, "x = 1\n")
    returned["twin of nothing"] = store.twin_of(campaign, "never = 0\n")
    returned["tried from seed"] = store.tried_from(seed, 10)
    returned["tried from nothing"] = store.tried_from(migrant, 10)
    returned["programs"] = [dataclasses.asdict(p) for p in store.programs_by_id([seed, child, twin, provisional, migrant])]
    returned["programs"].append(dataclasses.asdict(store.program(provisional)))
    returned["missing ids left out"] = [p.id for p in store.programs_by_id([10_000, child])]
    returned["individual"] = store.individual(migrant)
    returned["latest evaluation"] = store.latest_evaluation(child)
    returned["latest of none"] = store.latest_evaluation(twin)
    returned["population"] = store.population(campaign)
    returned["evaluations"] = [store.evaluations(p) for p in (seed, child, provisional)]
    returned["calls"] = store.llm_calls(campaign)
    returned["campaign state"] = store.campaign(campaign)["state"]
    return returned


def table_rows(path) -> dict:
    """Every row of every table as SQLite holds it, timestamps checked for their format and then set aside."""
    with sqlite3.connect(path) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        dump = {}
        for table in tables:
            rows = []
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                kept = []
                for value in row:
                    if isinstance(value, str) and value[:2] == "20" and TIMESTAMP.match(value):
                        value = "<timestamp>"
                    kept.append((type(value).__name__, value))
                rows.append(kept)
            dump[table] = rows
    return dump


def without_timestamps(value):
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if not k.endswith("_at")}
    if isinstance(value, list | tuple):
        return type(value)(without_timestamps(v) for v in value)
    return value


@pytest.mark.parametrize("single_thread", [True, False], ids=["a campaign's store", "a shared store"])
def test_prepared_statements_write_and_read_what_core_does(tmp_path, single_thread):
    """A campaign's store (one thread, kept connections: lone SELECTs skip BEGIN and COMMIT) and a shared one."""
    prepared = ProgramStore(tmp_path / "prepared.db", single_thread=single_thread)
    core = ProgramStore(tmp_path / "core.db", single_thread=single_thread)
    assert prepared.prepared is not None
    core.prepared = None        # the plain Core path, as on PostgreSQL
    try:
        from_prepared, from_core = campaign_history(prepared), campaign_history(core)
    finally:
        prepared.close()
        core.close()
    assert from_prepared["twin of x = 1"] == 1 and from_prepared["twin of nothing"] is None
    assert [row[0] for row in from_prepared["tried from seed"]] == [2, 3, 4]
    assert without_timestamps(from_prepared) == without_timestamps(from_core)
    written_prepared, written_core = table_rows(tmp_path / "prepared.db"), table_rows(tmp_path / "core.db")
    assert written_prepared.keys() == written_core.keys()
    for table in written_core:
        assert written_prepared[table] == written_core[table], table
    assert written_core["llm_calls"] and written_core["attempts"] and written_core["evaluations"]


@pytest.mark.parametrize("path", ["prepared", "core", "campaign"])
def test_a_failing_statement_raises_sqlalchemys_error_and_rolls_back(tmp_path, path):
    """`campaign`: a campaign's store, whose transactions are begun and committed on SQLite's own connection."""
    store = ProgramStore(tmp_path / "run.db", single_thread=path == "campaign")
    if path == "core":
        store.prepared = None
    try:
        campaign = store.create_campaign("c", "p", {})
        with sqlite3.connect(tmp_path / "run.db") as conn:
            conn.execute("CREATE TRIGGER no_calls BEFORE INSERT ON llm_calls BEGIN SELECT RAISE(ABORT, 'refused'); END")
        with pytest.raises(IntegrityError, match="refused"):
            with store.atomic():
                store.begin_attempt(campaign, 1)
                store.add_llm_calls(campaign, 1, [llm_call("planner")])
        assert store.last_attempt(campaign) == 0        # the attempt's row went with the failed transaction
        store.begin_attempt(campaign, 1)                 # and the store carries on
        assert store.last_attempt(campaign) == 1
    finally:
        store.close()


def test_core_statements_inside_a_campaign_stores_transaction_commit_and_roll_back_with_it(tmp_path):
    """A statement the store runs through Core (not prepared) inside a transaction begun on SQLite's connection
    joins that transaction: committed with it, rolled back with it, and the connection goes on afterwards."""
    store = ProgramStore(tmp_path / "run.db", single_thread=True)
    try:
        campaign = store.create_campaign("c", "p", {})
        with store.atomic():
            store.begin_attempt(campaign, 1)
            store.save_state(campaign, {"next_attempt": 2}, "running")      # Core: it also sets the status
        with pytest.raises(RuntimeError):
            with store.atomic():
                store.begin_attempt(campaign, 2)
                store.save_state(campaign, {"next_attempt": 3}, "stopped")
                raise RuntimeError("a kill mid-transaction")
        assert store.last_attempt(campaign) == 1
        assert store.campaign(campaign)["state"] == {"next_attempt": 2}
        with store.atomic():
            store.save_state(campaign, {"next_attempt": 2}, "finished")
            store.begin_attempt(campaign, 2)
        assert store.last_attempt(campaign) == 2 and store.campaign(campaign)["status"] == "finished"
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "run.db") as conn:      # what another process reads
        assert conn.execute("SELECT max(number) FROM attempts").fetchone() == (2,)


def test_a_commit_that_fails_raises_sqlalchemys_error_and_leaves_nothing(tmp_path):
    """A campaign's store says COMMIT to SQLite itself: a refused COMMIT (here a deferred foreign key; in the
    field a full disk) must come out as SQLAlchemy's error, which the store and the CLI turn into one line."""
    store = ProgramStore(tmp_path / "run.db", single_thread=True)
    try:
        campaign = store.create_campaign("c", "p", {})
        with sqlite3.connect(tmp_path / "run.db") as conn:
            conn.executescript("""
                CREATE TABLE owner (id INTEGER PRIMARY KEY);
                CREATE TABLE owned (owner_id INTEGER REFERENCES owner(id) DEFERRABLE INITIALLY DEFERRED);
                CREATE TRIGGER dangling AFTER INSERT ON attempts BEGIN INSERT INTO owned VALUES (999); END;""")
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            with store.atomic():
                store.begin_attempt(campaign, 1)
        assert store.last_attempt(campaign) == 0
        with sqlite3.connect(tmp_path / "run.db") as conn:
            conn.execute("DROP TRIGGER dangling")
        with store.atomic():
            store.begin_attempt(campaign, 1)
        assert store.last_attempt(campaign) == 1
    finally:
        store.close()
