"""Opening a program database by URL: SQLite (WAL, immediate write transactions) or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError, OperationalError

from evolve.db.migrations import SchemaTooNew, current_version
from evolve.db.migrations import migrate as migrate_schema
from evolve.db.models import SCHEMA_VERSION


class StoreError(RuntimeError):
    """The database cannot be used (missing, corrupt, newer than this code); one line for the user."""


def database_url(target: str | Path) -> str:
    """A path means an embedded SQLite file; anything with `://` is a SQLAlchemy URL."""
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def open_engine(target: str | Path, create: bool = True, migrate: bool = True) -> Engine:
    """`migrate=False` opens read-only in spirit: the file is not created or upgraded, only checked."""
    url = database_url(target)
    if url.startswith("sqlite:///") and not create and not Path(url.removeprefix("sqlite:///")).is_file():
        raise StoreError(f"run database not found: {url.removeprefix('sqlite:///')}")
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    try:
        if migrate:
            migrate_schema(engine)
        elif (found := current_version(engine)) != SCHEMA_VERSION:
            raise SchemaTooNew(f"schema v{found}, this stark reads v{SCHEMA_VERSION}; open it with `stark resume` first"
                               if found else "not a stark run database")
    except (DatabaseError, OperationalError) as exc:
        engine.dispose()
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc).splitlines()[0]
        raise StoreError(f"cannot open run database {url}: {reason}") from None
    except SchemaTooNew as exc:
        engine.dispose()
        raise StoreError(f"cannot open run database {url}: {exc}") from None
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """WAL so readers (viewer, status) never block the campaign; BEGIN IMMEDIATE for writers (engines with the
    `sqlite_immediate` execution option) so read-modify-write transactions queue instead of failing."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
