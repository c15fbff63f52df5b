"""A running campaign's log (runs/<name>/campaign.log), kept open for appending.

The loop logs something on most attempts; opening the file for each line cost it more than everything else it
logs with (0.19 ms an attempt, benchmarks/campaign_overhead.py).  Each line is one `write` on a descriptor opened
with O_APPEND, as before: a kill loses no line already written, and a line another process appends at the same
time (a `stark stop`, a resume's own lines) cannot land inside one of these.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evolve.run_dir import log_line


class EventLog:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def append(self, event: str, **fields: Any) -> None:
        line = log_line(event, fields).encode()
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.write(self._fd, line)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
