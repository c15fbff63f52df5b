"""A campaign's program rows for live pages: a page holds every row it has seen, and each poll asks only for the
rows that are new or changed since its cursor.

The server keeps the rows of each campaign it has shown, each stamped with the revision at which it last changed.
When the database has changed (ChangeProbe), rows past the newest known id are read whole and the columns that
change after insertion (status, score, population membership, ...) are read for the rest and compared; every
row that differs gets a new revision.  A cursor names this server's feed (`epoch`) and a revision, so a page that
outlived a restarted server gets everything again instead of a wrong delta.
"""

from __future__ import annotations

import bisect
import secrets
import threading
from typing import Any

from sqlalchemy import select

from evolve.db.models import Program
from evolve.db.store import ProgramStore

COLUMNS = ("id", "parent_id", "attempt", "island", "generation", "origin", "strategy", "status", "correct", "score",
           "code_size", "in_population", "note", "duplicate_of", "created_at")
MUTABLE = ("status", "correct", "score", "code_size", "in_population", "note", "duplicate_of")
"""What the loop updates after a row is written (evaluation, admission, eviction, marking a repeat)."""
_MUTABLE_AT = tuple(COLUMNS.index(name) for name in MUTABLE)
_CREATED_AT = COLUMNS.index("created_at")


class ProgramFeed:
    def __init__(self, store: ProgramStore, campaign_id: int):
        self.store, self.campaign_id = store, campaign_id
        self.epoch = secrets.token_hex(4)
        self.rows: dict[int, list[Any]] = {}
        self.revision_of: dict[int, int] = {}
        self.log: list[tuple[int, int]] = []
        """(revision, program id) in revision order; an id appears again each time its row changes."""
        self.revision = 0
        self.lock = threading.Lock()

    def refresh(self) -> None:
        """Read what changed in the database; the caller knows it did (ChangeProbe)."""
        with self.lock:
            newest = max(self.rows, default=0)
            table = Program.__table__.c
            with self.store.session() as s:
                fresh = s.execute(select(*(table[name] for name in COLUMNS))
                                  .where(table.campaign_id == self.campaign_id, table.id > newest)
                                  .order_by(table.id)).all()
                current = s.execute(select(table.id, *(table[name] for name in MUTABLE))
                                    .where(table.campaign_id == self.campaign_id, table.id <= newest)).all() \
                    if newest else []
            for row in current:
                known = self.rows.get(row[0])
                if known is None:
                    continue
                if any(known[at] != value for at, value in zip(_MUTABLE_AT, row[1:])):
                    for at, value in zip(_MUTABLE_AT, row[1:]):
                        known[at] = value
                    self._stamp(row[0])
            for row in fresh:
                values = list(row)
                values[_CREATED_AT] = str(values[_CREATED_AT])
                self.rows[values[0]] = values
                self._stamp(values[0])

    def _stamp(self, program_id: int) -> None:
        self.revision += 1
        self.revision_of[program_id] = self.revision
        self.log.append((self.revision, program_id))
        if len(self.log) > 4 * len(self.rows) + 1024:          # superseded entries: keep each id's newest only
            self.log = sorted((rev, pid) for pid, rev in self.revision_of.items())

    def since(self, cursor: str) -> dict[str, Any]:
        """Rows changed after `cursor` ("" or another server's cursor: all rows), and the cursor to ask with next."""
        epoch, _, revision = cursor.partition(":")
        reset = epoch != self.epoch or not revision.isdigit() or int(revision) > self.revision
        with self.lock:
            if reset:
                ids = sorted(self.rows)
            else:
                start = bisect.bisect_right(self.log, (int(revision), float("inf")))
                ids = sorted({pid for rev, pid in self.log[start:] if self.revision_of[pid] == rev})
            rows = [list(self.rows[pid]) for pid in ids]        # copies: a refresh may change them while sent
            return {"cursor": f"{self.epoch}:{self.revision}", "reset": reset, "columns": COLUMNS, "rows": rows}
