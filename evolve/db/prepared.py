"""The campaign loop's statements on SQLite, compiled once and run on the driver's own cursor.

SQLAlchemy Core costs about 40 µs of CPU per statement around SQLite's own few microseconds (building an
execution context, processing parameters and results, events); the loop runs a dozen statements per attempt,
which made them a third of its CPU (benchmarks/campaign_overhead.py).  Each statement is still written once in
Core (evolve/db/statements.py) and compiled by SQLAlchemy for this engine's dialect: what is kept here is that
compilation's SQL text, its parameter order, the types' own bind and result processors and the columns' Python
defaults, so the rows written are the ones Core would write.  Driver errors come out wrapped as SQLAlchemy's, so
the store's error handling (one-line messages, rollbacks) sees no difference.  PostgreSQL keeps plain Core.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

_GIVEN = object()


@dataclass(frozen=True)
class _Slot:
    """One `?` of the SQL text: the parameter it takes, or a default when the caller gives none."""
    name: str
    process: Callable[[Any], Any] | None
    default: Callable[[], Any] | None


class PreparedStatement:
    """A Core statement as SQL text plus how to turn keyword parameters into the driver's positional ones."""

    def __init__(self, statement: Executable, dialect: Dialect, keys: Sequence[str] = ()):
        """`keys`: for an INSERT, the columns the caller gives (the others get their Python defaults here)."""
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) or None)
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name} does not take positional parameters")
        required = {name: None for name in compiled.positiontup if compiled.binds[name].required}
        if any(compiled.binds[name].expanding for name in required):
            raise ValueError("a statement whose text depends on a parameter's length cannot be prepared once")
        expanded = compiled.construct_expanded_state(required)   # a literal IN list (statuses) written out
        self.sql = expanded.statement
        defaults = {column.key: column.default for column in compiled.insert_prefetch}
        defaults.update({column.key: column.onupdate for column in compiled.update_prefetch})
        origin = {new: old for old, news in expanded.parameter_expansion.items() for new in news}
        slots = []
        for name in expanded.positiontup:
            bind = compiled.binds[origin.get(name, name)]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in origin:
                default = _constant(expanded.parameters[name])
            elif name in defaults:
                default = _column_default(defaults[name])
            else:
                default = _bind_default(bind)
            slots.append(_Slot(name, process, default))
        self.slots = tuple(slots)
        columns = getattr(statement, "selected_columns", None) if not statement.is_dml else None
        self.results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                             for column in columns) if columns is not None else ()

    def parameters(self, values: dict[str, Any]) -> tuple:
        out = []
        for slot in self.slots:
            value = values.get(slot.name, _GIVEN)
            if value is _GIVEN:
                if slot.default is None:
                    raise KeyError(f"no value for parameter {slot.name!r} of: {self.sql}")
                value = slot.default()
            out.append(value if slot.process is None else slot.process(value))
        return tuple(out)

    def row(self, raw: tuple) -> tuple:
        return tuple(value if process is None else process(value) for process, value in zip(self.results, raw))


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _column_default(default) -> Callable[[], Any]:
    if default.is_callable:
        return lambda: default.arg(None)     # SQLAlchemy wraps a no-argument callable to take a context
    if default.is_scalar:
        return lambda: default.arg
    raise ValueError(f"{default}: only Python-side defaults can be prepared")


def _bind_default(bind) -> Callable[[], Any] | None:
    """A literal of the statement itself (`origin != 'migration'`, a LIMIT's offset) rides as a bind too."""
    if bind.callable is not None:
        return bind.callable
    if not bind.required:
        return lambda: bind.value
    return None


class driver_errors:  # noqa: N801 - used as a `with` statement's clause, like contextlib's
    """sqlite3's errors raised as SQLAlchemy's, as Core would raise them: the store's one-line errors and rollbacks
    (a full disk, a corrupt page, a refused COMMIT) see no difference.  A class, not a generator: it wraps every
    statement of the loop."""

    __slots__ = ("sql", "params")

    def __init__(self, sql: str, params: Any = ()):
        self.sql, self.params = sql, params

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if isinstance(error, sqlite3.Error):
            raise DBAPIError.instance(self.sql, self.params, error, sqlite3.Error) from error
        return False


def say(raw: sqlite3.Connection, sql: str) -> None:
    """A statement without parameters (BEGIN, COMMIT) on the DB-API connection."""
    with driver_errors(sql):
        raw.execute(sql)


class Cursor:
    """Runs prepared statements on the DB-API connection under a Core connection (in its transaction, if any)."""

    def __init__(self, conn: Connection):
        self.raw = conn.connection.driver_connection

    def execute(self, prepared: PreparedStatement, values: dict[str, Any]) -> sqlite3.Cursor:
        params = prepared.parameters(values)
        with driver_errors(prepared.sql, params):
            return self.raw.execute(prepared.sql, params)

    def insert(self, prepared: PreparedStatement, values: dict[str, Any]) -> int:
        return self.execute(prepared, values).lastrowid

    def execute_many(self, prepared: PreparedStatement, rows: Iterable[dict[str, Any]]) -> None:
        params = [prepared.parameters(values) for values in rows]
        with driver_errors(prepared.sql, params):
            self.raw.executemany(prepared.sql, params)

    def rows(self, prepared: PreparedStatement, values: dict[str, Any]) -> list[tuple]:
        cursor = self.execute(prepared, values)
        with driver_errors(prepared.sql, values):
            fetched = cursor.fetchall()        # rows past the first are read here (a corrupt page too)
        return [prepared.row(raw) for raw in fetched]


class PreparedStatements:
    """Each statement compiled on first use (an INSERT once per set of columns given)."""

    def __init__(self, dialect: Dialect):
        self.dialect = dialect
        self._cache: dict[tuple[Executable, tuple[str, ...]], PreparedStatement] = {}

    def get(self, statement: Executable, values: dict[str, Any] | None = None) -> PreparedStatement:
        keys = tuple(values) if values is not None and statement.is_insert else ()
        key = (statement, keys)     # the statement itself, held: an id could be reused by a later one
        prepared = self._cache.get(key)
        if prepared is None:
            prepared = self._cache[key] = PreparedStatement(statement, self.dialect, keys)
        return prepared
