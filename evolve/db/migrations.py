"""Versioned schema changes, so a run database written by an older stark opens in a newer one.

A fresh database gets the latest schema from the models and is stamped with SCHEMA_VERSION.  An older one
gets each step in MIGRATIONS above its version, in order, inside one transaction.  To change the schema:
edit the models, bump SCHEMA_VERSION, and add the DDL that takes version N-1 to N under key N.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, select, text

from evolve.db.models import SCHEMA_VERSION, Base, SchemaInfo

MIGRATIONS: dict[int, list[str]] = {
    # v2: the primary score is not always a speedup (discovery problems score by their first objective)
    2: ["ALTER TABLE programs RENAME COLUMN speedup TO score"],
}


class SchemaTooNew(RuntimeError):
    pass


def current_version(engine: Engine) -> int | None:
    if not inspect(engine).has_table(SchemaInfo.__tablename__):
        return None
    with engine.connect() as conn:
        return conn.execute(select(SchemaInfo.version)).scalar_one_or_none()


def migrate(engine: Engine, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to `target`; return the version it was at before (0 for a new database)."""
    found = current_version(engine)
    if found is None:
        tables = inspect(engine).get_table_names()
        if tables:
            raise SchemaTooNew(f"database has tables {tables[:3]} but no schema version; not a stark run database")
        Base.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(SchemaInfo.__table__.insert().values(id=1, version=target))
        return 0
    if found > target:
        raise SchemaTooNew(f"database schema v{found} is newer than this stark (v{target}); upgrade stark")
    with engine.begin() as conn:
        for version in range(found + 1, target + 1):
            for statement in MIGRATIONS.get(version, []):
                conn.execute(text(statement))
        conn.execute(SchemaInfo.__table__.update().values(version=target))
    return found
