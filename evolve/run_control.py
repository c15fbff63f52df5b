"""How a campaign that someone else drives (a sweep running several at once, each in a thread) is placed and
stopped: signals reach only the main thread, so a stop request is an event the loop checks."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


class StopRequested(KeyboardInterrupt):
    """The driver asked the loop to stop: handled like Ctrl-C (saved, resumable)."""


@dataclass(frozen=True)
class RunControl:
    stop: threading.Event = field(default_factory=threading.Event)
    evaluator_block: int = 0
    """The CPU block of the campaign's first evaluator: concurrent campaigns take different blocks."""

    def check(self) -> None:
        if self.stop.is_set():
            raise StopRequested("the sweep was asked to stop")
