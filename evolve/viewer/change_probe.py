"""Has a run's database changed since we last looked?  Asked on every poll, so it must cost next to nothing.

SQLite answers exactly and for free: `PRAGMA data_version` on one long-lived connection changes whenever any
other connection (the campaign's driver, in another process) commits.  PostgreSQL has no such counter, so there
the answer is a few indexed maxima and the campaign row's `updated_at` (the driver touches it at every heartbeat,
so a change nothing else shows is seen within one heartbeat).
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import func, select

from evolve.db.engine import read_only_uri, sqlite_path
from evolve.db.models import Campaign, Evaluation, LLMCall, Program
from evolve.db.store import ProgramStore


class ChangeProbe:
    def __init__(self, store: ProgramStore, campaign_id: int):
        self.store, self.campaign_id = store, campaign_id
        self.lock = threading.Lock()
        path = sqlite_path(store.url)
        self.connection = (sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)
                           if path is not None else None)

    def version(self) -> tuple:
        if self.connection is not None:
            with self.lock:
                return ("sqlite", self.connection.execute("PRAGMA data_version").fetchone()[0])
        campaign = self.campaign_id
        query = select(select(func.max(Program.id)).where(Program.campaign_id == campaign).scalar_subquery(),
                       select(func.max(Evaluation.id)).scalar_subquery(),
                       select(func.max(LLMCall.id)).where(LLMCall.campaign_id == campaign).scalar_subquery(),
                       select(Campaign.updated_at).where(Campaign.id == campaign).scalar_subquery())
        with self.store.session() as s:
            return tuple(s.execute(query).one())

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
