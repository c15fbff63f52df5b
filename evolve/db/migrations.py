"""Versioned schema changes, so a run database written by an older stark opens in a newer one.

A fresh database gets the latest schema from the models and is stamped with SCHEMA_VERSION.  An older one
gets each step in MIGRATIONS above its version, in order, inside one transaction.  To change the schema:
edit the models, bump SCHEMA_VERSION, and add the steps that take version N-1 to N under key N: SQL text, or a
callable given the open connection (for DDL that must come out right on both SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, inspect, select, text

from evolve.db.models import SCHEMA_VERSION, AttemptRow, Base, SchemaInfo
from stark.edits.normalized_code import fingerprint


def _create_attempt_ledger(conn: Connection) -> None:
    """Runs from before the ledger: every attempt number that left a program counts as done, unless it left a
    program that was never scored (killed mid-evaluation): that one stays open, so a resume evaluates it."""
    AttemptRow.__table__.create(conn)
    conn.execute(text("INSERT INTO attempts (campaign_id, number, status, outcome, started_at) "
                      "SELECT campaign_id, attempt, CASE WHEN SUM(CASE WHEN status = 'proposed' THEN 1 ELSE 0 END) > 0 "
                      "THEN 'running' ELSE 'done' END, 'migrated', MIN(created_at) FROM programs "
                      "WHERE attempt > 0 GROUP BY campaign_id, attempt"))


def _keep_llm_texts(conn: Connection) -> None:
    blob = "BYTEA" if conn.dialect.name == "postgresql" else "BLOB"
    for column, kind in (("finish_reason", "VARCHAR(20)"), ("prompt_z", blob), ("response_z", blob)):
        conn.execute(text(f"ALTER TABLE llm_calls ADD COLUMN {column} {kind}"))


def _fingerprint_programs(conn: Connection) -> None:
    """Twins are found by the normalized code's hash; programs recorded before it get theirs computed here."""
    conn.execute(text("ALTER TABLE programs ADD COLUMN fingerprint VARCHAR(32) NOT NULL DEFAULT ''"))
    conn.execute(text("ALTER TABLE programs ADD COLUMN duplicate_of INTEGER"))
    rows = conn.execute(text("SELECT id, source FROM programs")).all()
    if rows:
        conn.execute(text("UPDATE programs SET fingerprint = :f WHERE id = :i"),
                     [{"f": fingerprint(source), "i": pid} for pid, source in rows])
    conn.execute(text("CREATE INDEX ix_programs_fingerprint ON programs (campaign_id, fingerprint, status, id)"))


MIGRATIONS: dict[int, list[str | Callable[[Connection], None]]] = {
    # v2: the primary score is not always a speedup (discovery problems score by their first objective)
    2: ["ALTER TABLE programs RENAME COLUMN speedup TO score"],
    # v3: the attempt ledger (exactly-once attempt numbers across kills)
    3: [_create_attempt_ledger],
    # v4: what each LLM call was asked and answered, compressed, and how the reply ended
    4: [_keep_llm_texts],
    # v5: twins (normalized-code fingerprints) and what a duplicate repeats
    5: [_fingerprint_programs],
}


class SchemaMismatch(RuntimeError):
    pass


def current_version(engine: Engine) -> int | None:
    if not inspect(engine).has_table(SchemaInfo.__tablename__):
        return None
    with engine.connect() as conn:
        return conn.execute(select(SchemaInfo.version)).scalar_one_or_none()


def migrate(engine: Engine, target: int = SCHEMA_VERSION, create: bool = True) -> int:
    """Bring the database to `target`; return the version it was at before (0 for a new database).

    Nothing is written when the schema is already current, so opening a run never touches an archived file."""
    found = current_version(engine)
    if found is None and not create:
        raise SchemaMismatch("not a stark run database (no schema); it may have been truncated or replaced")
    if found is None:
        tables = inspect(engine).get_table_names()
        if tables:
            raise SchemaMismatch(f"database has tables {tables[:3]} but no schema version; not a stark run database")
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(SchemaInfo.__table__.insert().values(id=1, version=target))
        return 0
    if found > target:
        raise SchemaMismatch(f"database schema v{found} is newer than this stark (v{target}); upgrade stark")
    if found == target:
        return found
    with engine.begin() as conn:
        for version in range(found + 1, target + 1):
            for step in MIGRATIONS.get(version, []):
                step(conn) if callable(step) else conn.execute(text(step))
        conn.execute(SchemaInfo.__table__.update().values(version=target))
    return found
