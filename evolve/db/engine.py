"""Opening a program database by URL: SQLite (WAL, immediate write transactions) or PostgreSQL."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.pool import QueuePool

from evolve.db.migrations import SchemaMismatch, current_version
from evolve.db.migrations import migrate as migrate_schema
from evolve.db.models import SCHEMA_VERSION


class StoreError(RuntimeError):
    """The database cannot be used (missing, corrupt, full, newer than this code); one line for the user."""


def database_url(target: str | Path) -> str:
    """A path means an embedded SQLite file; anything with `://` is a SQLAlchemy URL."""
    text = str(target)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def read_only_uri(path: Path) -> str:
    """SQLite's read-only mode still needs the WAL index (-shm), which it cannot create in a read-only directory;
    there, a database with no pending WAL is opened as immutable, which reads the same rows without it."""
    wal = path.with_name(path.name + "-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    immutable = "&immutable=1" if not os.access(path.parent, os.W_OK) and not pending else ""
    return f"file:{urllib.parse.quote(str(path))}?mode=ro{immutable}"


def error_reason(exc: BaseException) -> str:
    """The first line of what the driver (or the OS) said, without SQLAlchemy's wrapping."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def corrupt_database(where: str | Path, reason: str) -> str:
    return (f"run database {where} is corrupt ({reason}); restore it from a backup "
            f"(`sqlite3 {where} .recover` may salvage its rows)")


def describe_database_error(exc: BaseException, url: str) -> str:
    """One line naming the file and what to do, for the errors a run's database can raise mid-campaign."""
    reason = error_reason(exc)
    where = sqlite_path(url) or url
    lowered = reason.lower()
    if "disk is full" in lowered or "no space left" in lowered or getattr(exc, "errno", None) == errno.ENOSPC:
        return f"disk full writing {where}: free some space, then `stark resume` continues (nothing recorded is lost)"
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return corrupt_database(where, reason)
    if "readonly" in lowered or "read-only" in lowered:
        return f"run database {where} is read-only ({reason}); `stark status` and `stark report` can still read it"
    return f"run database {where}: {reason}"


@contextlib.contextmanager
def database_errors_as_one_line(url: str) -> Iterator[None]:
    """Whatever the database (or a full disk under it) raises while a command works turns into StoreError's one
    line naming the file and what to do."""
    try:
        yield
    except (DatabaseError, OperationalError) as exc:
        raise StoreError(describe_database_error(exc, url)) from None
    except OSError as exc:                  # a file beside the database (the log) can be the one that filled up
        if exc.errno == errno.ENOSPC:
            raise StoreError(describe_database_error(exc, exc.filename or url)) from None
        raise


def open_engine(target: str | Path, create: bool = True, migrate: bool = True, read_only: bool = False) -> Engine:
    """`read_only` opens without writing a byte (archived runs, read-only directories): no migration, no journal
    mode change, SQLite in `mode=ro`.  Without `create`, a missing, empty or schema-less file is refused, never
    initialized, so a lost database cannot be silently replaced by an empty one."""
    url = database_url(target)
    path = sqlite_path(url)
    if path is not None and not create:
        if not path.is_file():
            raise StoreError(f"run database not found: {path}")
        if path.stat().st_size == 0:
            raise StoreError(f"run database {path} is empty (0 bytes): it was truncated or replaced; "
                             "restore it from a backup (nothing was written to it)")
    if path is not None:            # a creator, so that no character of the path is read as URL syntax
        uri = read_only_uri(path) if read_only else f"file:{urllib.parse.quote(str(path))}"
        engine = create_engine("sqlite://", future=True, poolclass=QueuePool,
                               creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    else:
        engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, read_only)
    elif read_only:
        engine = engine.execution_options(postgresql_readonly=True)
    try:
        if migrate and not read_only:
            migrate_schema(engine, create=create)
        elif (found := current_version(engine)) != SCHEMA_VERSION:
            if found is None:
                raise SchemaMismatch("not a stark run database")
            if found < SCHEMA_VERSION:
                raise SchemaMismatch(f"schema v{found} needs migrating to v{SCHEMA_VERSION}; "
                                     "`stark resume RUN_DIR` migrates it (read-only commands never write)")
            raise SchemaMismatch(f"database schema v{found} is newer than this stark (v{SCHEMA_VERSION}); upgrade stark")
    except (DatabaseError, OperationalError) as exc:
        engine.dispose()
        raise StoreError(f"cannot open run database {path or url}: {error_reason(exc)}") from None
    except SchemaMismatch as exc:
        engine.dispose()
        raise StoreError(f"cannot open run database {path or url}: {exc}") from None
    return engine


def _configure_sqlite(engine: Engine, read_only: bool) -> None:
    """WAL so readers (viewer, status) never block the campaign; BEGIN IMMEDIATE for writers (engines with the
    `sqlite_immediate` execution option) so read-modify-write transactions queue instead of failing."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # a 100k-program campaign's indexes outgrow SQLite's default 2 MB page cache: every lookup then reads
        # pages back through system calls, and the loop's cost per attempt grows with the campaign
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        driver = connection.connection.driver_connection
        if driver.in_transaction:
            return       # a campaign's store began it on the driver's connection itself (store._driver_transaction)
        immediate = connection.get_execution_options().get("sqlite_immediate", False) and not read_only
        # on the driver's connection: through SQLAlchemy's execution path this cost as much as the statements
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
