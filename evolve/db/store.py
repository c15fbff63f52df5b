"""The program database's operations; each method is one short transaction, unless called inside `atomic()`,
where they all share one (so an evaluation, the admission it causes and the end of its attempt commit together
or not at all)."""

from __future__ import annotations

import contextlib
import re
import zlib
from collections import namedtuple
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, literal_column, select, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from evolve.db import statements as sql
from evolve.db.prepared import Cursor, PreparedStatements, say
from evolve.db.engine import StoreError, corrupt_database, database_url, open_engine, sqlite_path
from evolve.db.models import AttemptRow, Campaign, Evaluation, LLMCall, Program, utcnow
from evolve.population import Individual
from evolve.records import ProgramRecord, Status
from stark.edits.normalized_code import fingerprint


def to_record(row: Program) -> ProgramRecord:
    return ProgramRecord(
        id=row.id, parent_id=row.parent_id, attempt=row.attempt, island=row.island, generation=row.generation,
        origin=row.origin, strategy=row.strategy, source=row.source, diff=row.diff, note=row.note, status=row.status,
        correct=row.correct, score=row.score, code_size=row.code_size, objectives=tuple(row.objectives or ()),
        features=dict(row.features or {}), in_population=row.in_population, fingerprint=row.fingerprint or "",
        duplicate_of=row.duplicate_of)


ProgramRow = namedtuple("ProgramRow", [column.key for column in sql.PROGRAM.selected_columns])
"""A `programs` row read through `_query` (a plain tuple), with the names `to_record` reads."""


def to_individual(row) -> Individual:
    pid, island, objectives, features, score, parent_id, fingerprint_ = row
    return Individual(pid, island, tuple(objectives or ()), dict(features or {}), score or 0.0, parent_id,
                      fingerprint_ or "")


def _unpack(blob: bytes | None) -> str:
    """LLM call text as `LLMCallRecord` packed it (stark/llm/records.py `packed`), in the agent's process."""
    return zlib.decompress(blob).decode(errors="replace") if blob else ""


def llm_call_dict(call: LLMCall, with_text: bool = True) -> dict[str, Any]:
    data = {"id": call.id, "attempt": call.attempt, "role": call.role, "model": call.model, "status": call.status,
            "prompt_tokens": call.prompt_tokens, "completion_tokens": call.completion_tokens,
            "latency_s": round(call.latency_s, 3), "cost_usd": call.cost_usd, "error": call.error,
            "finish_reason": call.finish_reason or "", "created_at": str(call.created_at)}
    if with_text:
        data["prompt"] = _unpack(call.prompt_z)
        data["response"] = _unpack(call.response_z)
    return data


class ProgramStore:
    def __init__(self, target: str | Path, create: bool = True, migrate: bool = True, read_only: bool = False,
                 single_thread: bool = False):
        """`single_thread`: only the creating thread uses this store (a campaign's driver), so it keeps its two
        connections open between transactions instead of taking them from the pool each time."""
        self.url = database_url(target)
        self.single_thread = single_thread
        self._kept: dict[bool, Connection] = {}
        self._priority_indexes: dict[float, Any] = {}
        self.read_only = read_only
        self.engine = open_engine(target, create=create, migrate=migrate, read_only=read_only)
        self.writer = self.engine.execution_options(sqlite_immediate=True)
        self.sessions = sessionmaker(self.writer, expire_on_commit=False)
        self.readers = sessionmaker(self.engine, expire_on_commit=False)
        self._current: Connection | None = None
        self._rollback_hooks: list = []
        self._after_commit: list = []
        self.prepared = PreparedStatements(self.engine.dialect) if self.engine.dialect.name == "sqlite" else None

    def close(self) -> None:
        self._drop_connections()
        self.engine.dispose()

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        """A transaction on a pooled connection, or on the kept one; a kept connection that saw an error is
        closed, so the next transaction (a retry) starts on a fresh one."""
        if not self.single_thread:
            with (self.writer if write else self.engine).begin() as conn:
                yield conn
            return
        conn = self._kept_connection(write)
        if self.prepared is not None:
            yield from self._driver_transaction(conn, write)
            return
        try:
            with conn.begin():
                yield conn
        except BaseException:
            self._drop_connections()
            raise

    def _driver_transaction(self, conn: Connection, write: bool) -> Iterator[Connection]:
        """BEGIN and COMMIT said to SQLite itself: SQLAlchemy's own transaction around them cost the loop a fifth
        of its database time (two or three transactions an attempt).  A Core statement run inside still works:
        SQLAlchemy begins its transaction on a connection already in one (the engine's `begin` event then says
        nothing to SQLite), and is told the transaction ended after the COMMIT."""
        raw = conn.connection.driver_connection
        try:
            say(raw, "BEGIN IMMEDIATE" if write else "BEGIN")
            yield conn
            say(raw, "COMMIT")
            if conn.in_transaction():
                conn.commit()            # nothing left for SQLite to commit; SQLAlchemy's state is reset
        except BaseException:
            try:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - the connection is dropped below either way
                pass
            self._drop_connections()
            raise

    def _kept_connection(self, write: bool) -> Connection:
        conn = self._kept.get(write)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._kept[write] = (self.writer if write else self.engine).connect()
        return conn

    def _drop_connections(self) -> None:
        for conn in self._kept.values():
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a broken connection is being thrown away
                pass
        self._kept = {}

    def session(self) -> Session:
        """A read session for callers outside the store (the viewer's queries)."""
        return self.readers()

    def on_rollback(self, hook) -> None:
        """`hook()` runs whenever a write transaction is rolled back: for callers that keep copies of rows in
        memory (the island model's population), which must then be read again."""
        self._rollback_hooks.append(hook)

    def _rolled_back(self) -> None:
        for hook in self._rollback_hooks:
            hook()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Every store call inside shares one write transaction: all of it commits, or none of it."""
        if self._current is not None:
            yield
            return
        if self.read_only:
            raise StoreError("this run database was opened read-only")
        try:
            with self._transaction(write=True) as conn:
                self._current = conn
                try:
                    yield
                finally:
                    self._current = None
        except BaseException:
            self._after_commit.clear()
            self._rolled_back()
            raise
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def after_commit(self, hook) -> None:
        """`hook()` runs once the `atomic()` transaction now open commits, and never if it rolls back: for
        callers whose memory must only follow what the database kept."""
        if self._current is None:
            raise RuntimeError("after_commit is for a write inside atomic()")
        self._after_commit.append(hook)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """SQL Core on a connection, not the ORM: the campaign loop writes a handful of rows per attempt, and the
        ORM's unit of work cost more CPU than everything else the loop does."""
        if self._current is not None:
            yield self._current
            return
        if self.read_only:
            raise StoreError("this run database was opened read-only")
        try:
            with self._transaction(write=True) as conn:
                yield conn
        except BaseException:
            self._rolled_back()
            raise

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        """Inside `atomic()` reads see the transaction's own uncommitted writes."""
        if self._current is not None:
            yield self._current
            return
        if self.single_thread:
            with self._transaction(write=False) as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            yield conn

    # the loop's hot statements: prepared on SQLite (evolve/db/prepared.py), plain Core elsewhere ---------------
    def _execute(self, conn: Connection, statement, values: dict[str, Any]) -> None:
        if self.prepared is None:
            conn.execute(statement, values)
        else:
            Cursor(conn).execute(self.prepared.get(statement), values)

    def _execute_many(self, conn: Connection, statement, rows: list[dict[str, Any]]) -> None:
        if self.prepared is None:
            conn.execute(statement, rows)
        else:
            Cursor(conn).execute_many(self.prepared.get(statement, rows[0]), rows)

    def _insert(self, conn: Connection, statement, values: dict[str, Any]) -> int:
        if self.prepared is None:
            return conn.execute(statement, values).inserted_primary_key[0]
        return Cursor(conn).insert(self.prepared.get(statement, values), values)

    def _query(self, statement, values: dict[str, Any]) -> list[tuple]:
        """One SELECT.  Prepared, outside any transaction, it runs on the kept reader by itself: in SQLite's
        autocommit mode one statement is one read transaction, without a BEGIN and COMMIT around it."""
        if self.prepared is None or not self.single_thread or self._current is not None:
            with self._read() as s:
                return self._rows(s, statement, values)
        try:
            return Cursor(self._kept_connection(False)).rows(self.prepared.get(statement), values)
        except BaseException:
            self._drop_connections()
            raise

    def _rows(self, conn: Connection, statement, values: dict[str, Any]) -> list[tuple]:
        if self.prepared is None:
            return [tuple(row) for row in conn.execute(statement, values)]
        return Cursor(conn).rows(self.prepared.get(statement), values)

    # campaigns -----------------------------------------------------------------------------------------------
    def create_campaign(self, name: str, problem_id: str, config: dict[str, Any]) -> int:
        with self._write() as s:
            return s.execute(insert(Campaign).values(name=name, problem_id=problem_id, config=config, state={},
                                                     status="running")).inserted_primary_key[0]

    def campaign_id(self, name: str) -> int:
        with self._read() as s:
            found = s.scalar(select(Campaign.id).where(Campaign.name == name))
        if found is None:
            self.check_integrity()
            raise StoreError(f"no campaign named {name!r} in {self.where}")
        return found

    @property
    def where(self) -> str:
        return str(sqlite_path(self.url) or self.url)

    def check_integrity(self) -> None:
        """SQLite's quick check (reads every page once): a damaged file is refused before anything is written to
        it, or named as damaged when a lookup finds nothing."""
        if self.engine.dialect.name != "sqlite":
            return
        try:
            with self.engine.connect() as conn:
                verdict = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check(3)")]
        except DatabaseError as exc:
            verdict = [str(getattr(exc, "orig", exc))]
        if verdict != ["ok"]:
            raise StoreError(corrupt_database(self.where, verdict[0][:120]))

    def campaign(self, campaign_id: int) -> dict[str, Any]:
        with self._read() as s:
            row = s.execute(select(Campaign).where(Campaign.id == campaign_id)).first()
            return {"id": row.id, "name": row.name, "problem_id": row.problem_id, "config": row.config,
                    "state": dict(row.state or {}), "status": row.status, "created_at": row.created_at,
                    "updated_at": row.updated_at}

    def save_state(self, campaign_id: int, state: dict[str, Any] | None = None, status: str | None = None) -> None:
        if status is None and state is not None:
            with self._write() as s:
                self._execute(s, sql.SAVE_STATE, {"campaign": campaign_id, "new_state": state, "at": utcnow()})
            return
        values: dict[str, Any] = {"updated_at": utcnow()}
        if state is not None:
            values["state"] = state
        if status is not None:
            values["status"] = status
        with self._write() as s:
            s.execute(update(Campaign).where(Campaign.id == campaign_id).values(**values))

    # programs ------------------------------------------------------------------------------------------------
    def add_program(self, campaign_id: int, *, attempt: int, source: str, parent_id: int | None, island: int,
                    generation: int, origin: str, strategy: str = "", diff: str = "",
                    status: str = Status.PROPOSED, note: str = "", duplicate_of: int | None = None,
                    known_fingerprint: str = "") -> int:
        """`known_fingerprint`: the source's fingerprint when the caller has it (else it is worked out)."""
        with self._write() as s:
            program_id = self._insert(s, sql.INSERT_PROGRAM, dict(
                campaign_id=campaign_id, attempt=attempt, source=source, parent_id=parent_id, island=island,
                generation=generation, origin=origin, strategy=strategy, diff=diff, status=status, note=note,
                code_size=len(source.encode()), objectives=[], features={},
                fingerprint=known_fingerprint or fingerprint(source),
                duplicate_of=duplicate_of))
            if parent_id is not None:
                self._execute(s, sql.ONE_MORE_CHILD, {"program": parent_id})
            return program_id

    def record_evaluation(self, program_id: int, result: dict[str, Any], *, objectives: Iterable[float],
                          features: dict[str, Any], score: float | None = None, provisional: bool = False,
                          untimed: bool = False) -> None:
        """Store the evaluator's verdict and the program's scores in one transaction.

        A provisional verdict (a would-be best awaiting re-measurement) is kept as an evaluation row only:
        the program stays `proposed`, so a resume after a kill measures it again.

        `programs.score` holds the program's primary score: the speedup over eager for kernels (the default),
        the campaign's first objective for discovery problems (passed as `score`).  An untimed verdict (verified,
        not timed: the cost model's call) leaves the program without a score."""
        failure = result.get("failure")
        profile = result.get("profile") or {}
        candidate_timing = profile.get("candidate") or {}
        result = {**result, "provisional": True} if provisional else result
        with self._write() as s:
            self._insert(s, sql.INSERT_EVALUATION, dict(
                program_id=program_id, passed=failure is None,
                failure_stage=None if failure is None else failure["stage"],
                failure_kind=None if failure is None else failure["kind"],
                message="" if failure is None else failure["message"],
                speedup_vs_eager=result.get("speedup_vs_eager"), speedup_vs_compile=result.get("speedup_vs_compile"),
                runtime_us=candidate_timing.get("median_us"), stages=result.get("stages", []), result=result))
            if provisional:
                return
            passed_status = Status.UNTIMED if untimed else Status.EVALUATED
            self._execute(s, sql.SCORE_PROGRAM, dict(
                program=program_id, new_status=passed_status if failure is None else Status.FAILED,
                new_correct=failure is None,
                new_score=(result.get("speedup_vs_eager") if score is None else score)
                if failure is None and not untimed else None,
                new_objectives=list(objectives), new_features=features))

    def set_status(self, program_id: int, status: str) -> None:
        with self._write() as s:
            self._execute(s, sql.SET_STATUS, {"program": program_id, "new_status": status})

    def set_population(self, campaign_id: int, members: Iterable[int], evicted: Iterable[int]) -> None:
        members, evicted = list(members), list(evicted)
        with self._write() as s:
            if members:
                self._execute_many(s, sql.JOIN_POPULATION, [{"program": member} for member in members])
            if evicted:
                at = utcnow()
                self._execute_many(s, sql.LEAVE_POPULATION,
                                   [{"program": gone, "campaign": campaign_id, "at": at} for gone in evicted])

    def clone_to_island(self, program_id: int, island: int, attempt: int) -> int:
        """A migrant: a new row on another island whose parent is the original, scores carried over."""
        with self._write() as s:
            original = ProgramRow(*self._rows(s, sql.PROGRAM, {"program": program_id})[0])
            copy = self._insert(s, sql.INSERT_PROGRAM, dict(
                campaign_id=original.campaign_id, parent_id=original.id, attempt=attempt, island=island,
                generation=original.generation, origin="migration", strategy=f"migrant of #{original.id}",
                source=original.source, diff="", status=original.status, correct=original.correct,
                score=original.score, code_size=original.code_size, objectives=list(original.objectives or []),
                features=dict(original.features or {}), fingerprint=original.fingerprint))
            self._execute(s, sql.ONE_MORE_CHILD, {"program": program_id})
            return copy

    def twin_of(self, campaign_id: int, source: str, known_fingerprint: str = "") -> int | None:
        """The first program of the campaign with the same normalized code that went to the evaluator, if any."""
        found = self._query(sql.TWIN, {"campaign": campaign_id, "fingerprint": known_fingerprint or fingerprint(source)})
        return found[0][0] if found else None

    def evaluated_fingerprints(self, campaign_id: int) -> list[str]:
        """Every normalized code of the campaign that went to the evaluator: what `twin_of` would find (read once
        a run, for the agents' pipeline; the index on (campaign, fingerprint, status) answers it alone)."""
        query = (select(Program.fingerprint).distinct()
                 .where(Program.campaign_id == campaign_id, Program.status.in_(Status.EVALUATION_BOUND)))
        with self._read() as s:
            return [f for (f,) in s.execute(query) if f]

    def program(self, program_id: int) -> ProgramRecord:
        rows = self._query(sql.PROGRAM, {"program": program_id})
        if not rows:
            raise StoreError(f"no program {program_id}")
        return to_record(ProgramRow(*rows[0]))

    def programs(self, campaign_id: int, *, in_population: bool | None = None,
                 statuses: Iterable[str] | None = None) -> list[ProgramRecord]:
        query = select(Program).where(Program.campaign_id == campaign_id).order_by(Program.id)
        if in_population is not None:
            query = query.where(Program.in_population == in_population)
        if statuses is not None:
            query = query.where(Program.status.in_(list(statuses)))
        with self._read() as s:
            return [to_record(row) for row in s.execute(query)]

    def programs_by_id(self, ids: Iterable[int]) -> list[ProgramRecord]:
        """Those programs, in the order asked: for a campaign's store on SQLite, one prepared statement per id (an
        IN list is compiled again for each length; the loop asks for one or two); elsewhere one query."""
        ids = list(ids)
        if self.prepared is not None and self.single_thread:
            found = (self._query(sql.PROGRAM, {"program": i}) for i in ids)
            return [to_record(ProgramRow(*rows[0])) for rows in found if rows]
        with self._read() as s:
            rows = {row.id: row for row in s.execute(sql.PROGRAMS, {"ids": ids})}
            return [to_record(rows[i]) for i in ids if i in rows]

    def population(self, campaign_id: int) -> list[Individual]:
        """Every island's members without their sources: what ranking and sampling read."""
        query = select(*sql.INDIVIDUAL_COLUMNS).where(Program.campaign_id == campaign_id,
                                                      Program.in_population.is_(True))
        with self._read() as s:
            return [to_individual(row) for row in s.execute(query.order_by(Program.id))]

    def individual(self, program_id: int) -> Individual:
        rows = self._query(sql.INDIVIDUAL, {"program": program_id})
        if not rows:
            raise StoreError(f"no program {program_id}")
        return to_individual(rows[0])

    def tried_from(self, program_id: int, newest: int) -> list[tuple[int, float | None, bool, str, str]]:
        """(id, score, correct, status, strategy) of the newest children of a program, oldest first, migrant
        copies aside: what was already tried from it, without the sources."""
        rows = self._query(sql.TRIED_FROM, {"program": program_id, "newest": newest})
        return [(pid, score, bool(correct), status, strategy) for pid, score, correct, status, strategy in reversed(rows)]

    def latest_evaluation(self, program_id: int) -> dict[str, Any]:
        rows = self._query(sql.LATEST_EVALUATION, {"program": program_id})
        return dict(rows[0][0] or {}) if rows else {}

    def timed_programs(self, campaign_id: int, newest: int) -> list[tuple[str, float | None, float]]:
        """(source, parent's speedup, speedup) of the newest timed correct programs, migrant copies aside: what
        the cost model learns from when a campaign starts or resumes."""
        parent = Program.__table__.alias("parent")
        query = (select(Program.source, parent.c.score, Program.score)
                 .outerjoin(parent, parent.c.id == Program.parent_id)
                 .where(Program.campaign_id == campaign_id, Program.status == Status.EVALUATED,
                        Program.correct.is_(True), Program.score > 0, Program.origin != "migration")
                 .order_by(Program.id.desc()).limit(newest))
        with self._read() as s:
            return [(source, parent_score, score) for source, parent_score, score in s.execute(query)][::-1]

    def skill_evidence(self, newest: int = 50_000) -> list[tuple[str, str, bool, str]]:
        """(problem id, strategy, improved on its parent, diff if it did) for the newest programs of every
        campaign in this database, migrant copies and the seeds aside: what the skill library learns from."""
        return [(problem_id, strategy, improved, diff)
                for _, _, problem_id, strategy, improved, diff in self.skill_rows(0, newest)]

    def skill_rows(self, since_id: int, newest: int = 50_000) -> list[tuple[int, str, str, str, bool, str]]:
        """(id, status, problem id, strategy, improved, diff if it did) of the newest programs from `since_id` on,
        oldest first: what a campaign's skill tally reads again (evolve/skills.py `SkillTally`)."""
        parent = Program.__table__.alias("parent")
        improved = ((Program.correct.is_(True)) & (parent.c.correct.is_(True)) & (Program.score > parent.c.score))
        query = (select(Program.id, Program.status, Campaign.problem_id, Program.strategy, improved)
                 .join(Campaign, Campaign.id == Program.campaign_id)
                 .join(parent, parent.c.id == Program.parent_id)
                 .where(Program.origin.not_in(("migration", "seed")), Program.id >= since_id)
                 .order_by(Program.id.desc()).limit(newest))
        with self._read() as s:
            rows = s.execute(query).all()
            winners = [row[0] for row in rows if row[4]]
            diffs = {pid: diff for pid, diff in s.execute(select(Program.id, Program.diff)
                                                          .where(Program.id.in_(winners)))} if winners else {}
        return [(pid, status, problem_id, strategy or "", bool(won), diffs.get(pid, ""))
                for pid, status, problem_id, strategy, won in reversed(rows)]

    def children(self, program_id: int) -> list[ProgramRecord]:
        with self._read() as s:
            return [to_record(row) for row in s.execute(
                select(Program).where(Program.parent_id == program_id).order_by(Program.id))]

    def tree_nodes(self, campaign_id: int, statuses: Iterable[str]) -> list[tuple[int, float, bool, int]]:
        """(id, score, correct, number of children) of every attempt with those statuses, from a covering index."""
        query = (select(Program.id, Program.score, Program.correct, Program.children)
                 .where(Program.campaign_id == campaign_id, Program.status.in_(list(statuses))).order_by(Program.id))
        with self._read() as s:
            return [(pid, score or 0.0, bool(correct), count) for pid, score, correct, count in s.execute(query)]

    def first_node_from(self, campaign_id: int, statuses: Iterable[str], at_least: int) -> int | None:
        """The lowest id >= `at_least` among programs with those statuses."""
        return min(self._per_status(sql.FIRST_NODE_FROM, campaign_id, statuses, at_least=at_least), default=None)

    def last_node(self, campaign_id: int, statuses: Iterable[str]) -> int | None:
        return max(self._per_status(sql.LAST_NODE, campaign_id, statuses), default=None)

    def _per_status(self, statement, campaign_id: int, statuses: Iterable[str], **params) -> list[int]:
        """The statement's id for each status, those found: one index probe each, where an IN list over the
        statuses would not read the index in id order."""
        with self._read() as s:
            found = [s.scalar(statement, {"campaign": campaign_id, "status": status, **params}) for status in statuses]
        return [f for f in found if f is not None]

    def best_node(self, campaign_id: int, statuses: Iterable[str], expansion_penalty: float) -> int:
        """Correct nodes first, then the highest score discounted by expansions, then the oldest.  Among correct
        nodes this reads an index on the discounted score (one per penalty, made on first use), not the tree."""
        statuses = list(statuses)
        priority = self._priority_index(expansion_penalty)
        if priority is not None:
            with self._read() as s:
                found = s.scalar(select(Program.id).where(Program.campaign_id == campaign_id,
                                                          Program.correct == True,  # noqa: E712 - indexed equality
                                                          Program.status.in_(statuses))
                                 .order_by(priority.desc(), Program.id).limit(1))
            if found is not None:
                return found
        score = func.coalesce(Program.score, 0.0) / (1.0 + expansion_penalty * Program.children)
        with self._read() as s:
            return s.scalar(select(Program.id).where(Program.campaign_id == campaign_id, Program.status.in_(statuses))
                            .order_by(Program.correct.desc(), score.desc(), Program.id).limit(1))

    def _priority_index(self, expansion_penalty: float):
        """The discounted score as a literal expression, with an index on it (made once; None when it cannot be:
        a read-only store, or a database that refuses it).  The query must spell the expression as the index
        does, constants included, for the database to use it."""
        penalty = float(expansion_penalty)
        if penalty in self._priority_indexes:
            return self._priority_indexes[penalty]
        expression = f"(coalesce(score, 0.0) / (1.0 + {penalty!r} * children))"
        name = "ix_programs_priority_" + re.sub(r"\W", "_", repr(penalty))
        made = None
        if not self.read_only:
            try:
                with self._write() as s:
                    s.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON programs "
                                      f"(campaign_id, correct, {expression} DESC, id)")
                made = literal_column(expression)
            except DatabaseError:
                made = None
        self._priority_indexes[penalty] = made
        return made

    def best_program(self, campaign_id: int) -> ProgramRecord | None:
        query = (select(Program).where(Program.campaign_id == campaign_id, Program.correct.is_(True))
                 .order_by(Program.score.desc(), Program.code_size, Program.id).limit(1))
        with self._read() as s:
            row = s.execute(query).first()
            return None if row is None else to_record(row)

    def evaluations(self, program_id: int) -> list[dict[str, Any]]:
        with self._read() as s:
            rows = s.scalars(select(Evaluation.result).where(Evaluation.program_id == program_id)
                             .order_by(Evaluation.id))
            return [dict(result) for result in rows]

    def attempts_recorded(self, campaign_id: int) -> int:
        with self._read() as s:
            return s.scalar(select(func.coalesce(func.max(Program.attempt), -1)).where(
                Program.campaign_id == campaign_id)) + 1

    def status_counts(self, campaign_id: int) -> dict[str, int]:
        with self._read() as s:
            rows = s.execute(select(Program.status, func.count()).where(Program.campaign_id == campaign_id)
                             .group_by(Program.status))
            return {status: count for status, count in rows}

    # llm calls -----------------------------------------------------------------------------------------------
    def add_llm_calls(self, campaign_id: int, attempt: int | None, calls: Iterable[Any]) -> None:
        """`calls`: LLMCallRecords, their text already compressed (`prompt_z`, `response_z`)."""
        rows = [dict(campaign_id=campaign_id, attempt=attempt, role=call.role, model=call.model, status=call.status,
                     prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens,
                     latency_s=call.latency_s, cost_usd=call.cost_usd, prompt_hash=call.prompt_hash, error=call.error,
                     finish_reason=getattr(call, "finish_reason", "") or None, created_at=utcnow(),
                     prompt_z=call.prompt_z or None, response_z=call.response_z or None)
                for call in calls]
        if not rows:
            return
        with self._write() as s:
            self._execute_many(s, sql.INSERT_LLM_CALL, rows)

    def llm_calls(self, campaign_id: int, attempt: int | None = None, call_id: int | None = None,
                  with_text: bool = True) -> list[dict[str, Any]]:
        """Calls of one attempt (or one call by id), oldest first, with the prompt and reply text unpacked."""
        query = select(LLMCall).where(LLMCall.campaign_id == campaign_id)
        if attempt is not None:
            query = query.where(LLMCall.attempt == attempt)
        if call_id is not None:
            query = query.where(LLMCall.id == call_id)
        with self._read() as s:
            return [llm_call_dict(c, with_text) for c in s.execute(query.order_by(LLMCall.id))]

    def llm_outcomes(self, campaign_id: int) -> dict[str, dict[str, int]]:
        """Calls per role and outcome (ok, truncated, error, ...), for `stark status`."""
        with self._read() as s:
            rows = s.execute(select(LLMCall.role, LLMCall.status, func.count()).where(
                LLMCall.campaign_id == campaign_id).group_by(LLMCall.role, LLMCall.status))
            out: dict[str, dict[str, int]] = {}
            for role, status, count in rows:
                out.setdefault(role, {})[status] = count
            return out

    def llm_totals_by_role(self, campaign_id: int) -> dict[str, dict[str, float]]:
        """Calls, tokens and dollars per role over the whole campaign, counted by the database."""
        with self._read() as s:
            rows = s.execute(select(LLMCall.role, func.count(), func.coalesce(func.sum(LLMCall.prompt_tokens), 0)
                                    + func.coalesce(func.sum(LLMCall.completion_tokens), 0),
                                    func.coalesce(func.sum(LLMCall.cost_usd), 0.0))
                             .where(LLMCall.campaign_id == campaign_id).group_by(LLMCall.role))
            return {role: {"calls": calls, "tokens": int(tokens), "cost_usd": float(cost)}
                    for role, calls, tokens, cost in rows}

    def llm_totals(self, campaign_id: int) -> dict[str, float]:
        with self._read() as s:
            row = s.execute(select(func.count(), func.coalesce(func.sum(LLMCall.prompt_tokens), 0),
                                   func.coalesce(func.sum(LLMCall.completion_tokens), 0),
                                   func.coalesce(func.sum(LLMCall.cost_usd), 0.0))
                            .where(LLMCall.campaign_id == campaign_id)).one()
        return {"calls": row[0], "prompt_tokens": row[1], "completion_tokens": row[2], "cost_usd": float(row[3])}

    # the attempt ledger --------------------------------------------------------------------------------------
    def begin_attempt(self, campaign_id: int, number: int) -> None:
        """Hand out attempt `number`: its ledger row is the record that the number was taken (the loop's saved
        counter may lag it; `last_attempt` is read at start)."""
        with self._write() as s:
            self._insert(s, sql.INSERT_ATTEMPT, {"campaign_id": campaign_id, "number": number, "status": "running"})

    def last_attempt(self, campaign_id: int) -> int:
        """The highest attempt number ever handed out (0: none)."""
        with self._read() as s:
            return s.scalar(select(func.coalesce(func.max(AttemptRow.number), 0))
                            .where(AttemptRow.campaign_id == campaign_id))

    def end_attempt(self, campaign_id: int, number: int, outcome: str, program_id: int | None) -> None:
        with self._write() as s:
            self._execute(s, sql.END_ATTEMPT, {"campaign": campaign_id, "the_number": number, "new_outcome": outcome,
                                               "new_program": program_id, "at": utcnow()})

    def unfinished_attempts(self, campaign_id: int) -> list[int]:
        with self._read() as s:
            return list(s.scalars(select(AttemptRow.number).where(
                AttemptRow.campaign_id == campaign_id, AttemptRow.status == "running").order_by(AttemptRow.number)))

    def attempts_done(self, campaign_id: int) -> int:
        with self._read() as s:
            return s.scalar(select(func.count()).where(AttemptRow.campaign_id == campaign_id,
                                                       AttemptRow.status == "done"))

    def attempt_programs(self, campaign_id: int, number: int) -> list[ProgramRecord]:
        """The programs an attempt produced so far (a repair chain has several), oldest first."""
        with self._read() as s:
            return [to_record(row) for row in s.execute(select(Program).where(
                Program.campaign_id == campaign_id, Program.attempt == number, Program.origin != "migration")
                .order_by(Program.id))]

    def seed_program(self, campaign_id: int) -> ProgramRecord | None:
        with self._read() as s:
            row = s.execute(select(Program).where(Program.campaign_id == campaign_id, Program.origin == "seed")
                            .order_by(Program.id).limit(1)).first()
            return None if row is None else to_record(row)

    def provisional_result(self, program_id: int) -> bool:
        """Whether the program's latest evaluation awaits re-measurement (so a resume re-measures, not re-screens)."""
        evaluations = self.evaluations(program_id)
        return bool(evaluations) and bool(evaluations[-1].get("provisional"))

    def update_config(self, campaign_id: int, config: dict[str, Any]) -> None:
        with self._write() as s:
            s.execute(update(Campaign).where(Campaign.id == campaign_id).values(config=config))
