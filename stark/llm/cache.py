"""An on-disk response cache keyed by prompt hash, so repeating a prompt costs no tokens."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS responses (prompt_hash TEXT PRIMARY KEY, text TEXT NOT NULL)")
        self._conn.commit()

    def get(self, prompt_hash: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT text FROM responses WHERE prompt_hash = ?", (prompt_hash,)).fetchone()
        return None if row is None else row[0]

    def put(self, prompt_hash: str, text: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO responses VALUES (?, ?)", (prompt_hash, text))
            self._conn.commit()

    def close(self) -> None:
        self._conn.close()
