"""Where a campaign's files live: runs/<name>/ holds the database, the resolved config, the best program, the log."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RETIRED_AGENT_KEYS = ("entry_point", "entry_points")   # now derived from the problem at start


@dataclass(frozen=True, slots=True)
class RunDir:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "campaign.db"

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def best(self) -> Path:
        return self.root / "best.py"

    @property
    def log(self) -> Path:
        return self.root / "campaign.log"

    @property
    def llm_cache(self) -> Path:
        return self.root / "llm-cache.sqlite"

    def database_target(self, configured: str) -> str:
        return configured or str(self.database)

    def write_config(self, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_whole(self.config, json.dumps(data, indent=2, sort_keys=True))

    def read_config(self) -> dict[str, Any]:
        if not self.config.is_file():
            raise FileNotFoundError(f"not a stark run directory (no config.json): {self.root}")
        data = json.loads(self.config.read_text())
        for retired in RETIRED_AGENT_KEYS:          # runs saved by an older stark still carry them
            data.get("agents", {}).pop(retired, None)
        return data

    def write_best(self, source: str) -> None:
        _write_whole(self.best, source)

    def append_log(self, event: str, **fields: Any) -> None:
        """One line, the file opened for it (a running campaign keeps it open: evolve/event_log.py)."""
        with open(self.log, "a") as log:
            log.write(log_line(event, fields))


def log_line(event: str, fields: dict[str, Any]) -> str:
    return json.dumps({"time": round(time.time(), 3), "event": event, **fields}, default=str) + "\n"


def _write_whole(path: Path, text: str) -> None:
    """Whole or not at all: a kill mid-write must not leave half a file behind."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)
