"""A stand-in for a campaign's progress bar that notes when each attempt finished, for benchmarks.

`use()` puts it in place of `evolve.launch.CampaignProgress`; after each campaign, `ProgressMarks.marks` holds
(attempts completed, process CPU s, wall s, this thread's CPU s) for every change of the count.
"""

from __future__ import annotations

import time

import evolve.launch as launch


class ProgressMarks(launch.CampaignProgress):
    marks: list[tuple[int, float, float, float]] = []

    def __init__(self, *args, **kwargs):
        ProgressMarks.marks = []

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, state, elapsed_s: float, waiting: str = "") -> None:
        if not self.marks or self.marks[-1][0] != state.completed:
            self.marks.append((state.completed, time.process_time(), time.perf_counter(), time.thread_time()))


def use() -> None:
    launch.CampaignProgress = ProgressMarks
