"""A rich progress bar with the best score so far; silent when there is no terminal to draw on."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kernelbench.score_label import KERNEL_SCORE, ScoreLabel


class CampaignProgress:
    def __init__(self, total: int, console: Console | None = None, enabled: bool = True,
                 label: ScoreLabel = KERNEL_SCORE):
        self.total, self.label = total, label
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("best [green]{task.fields[best]}[/]"), TextColumn("stagnant {task.fields[stagnation]}"),
            TimeElapsedColumn(), console=console or Console(), disable=not enabled, transient=False,
            refresh_per_second=2)      # redrawn by a thread in the driver: 10 times a second cost it CPU for nothing
        self.task = self.progress.add_task("attempts", total=total or None, best="-", stagnation=0)

    def __enter__(self) -> CampaignProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def update(self, state, elapsed_s: float, waiting: str = "") -> None:
        """`waiting` replaces the bar's title while the campaign is paused (an LLM endpoint is down)."""
        best = self.label.format(state.best_score) if state.completed else "-"
        self.progress.update(self.task, completed=state.completed, best=best, stagnation=state.stagnation,
                             description=f"[yellow]{waiting}[/]" if waiting else "attempts")
