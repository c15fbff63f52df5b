"""The leaderboard's plots (matplotlib, headless): speedup distribution and the fast_p curve over p."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from kernelbench.leaderboard import RunColumn, measured
from kernelbench.metrics import fast_p


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def speedup_distribution(columns: Sequence[RunColumn]):
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 3.5))
    data = [[o.speedup_vs_eager for o in c.outcomes if o.correct and o.speedup_vs_eager] or [0.0] for c in columns]
    axis.boxplot(data, tick_labels=[c.name for c in columns], showmeans=True)
    axis.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    axis.set_yscale("log")
    axis.set_ylabel("speedup vs torch eager (correct problems)")
    axis.set_title("Speedup distribution")
    figure.tight_layout()
    return figure


def fast_p_curve(columns: Sequence[RunColumn], baseline: str = "eager"):
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 3.5))
    ps = [i / 20 for i in range(0, 81)]
    for column in columns:
        axis.plot(ps, [fast_p(column.outcomes, p, baseline) for p in ps], label=column.name)
    axis.set_xlabel("speedup threshold p")
    axis.set_ylabel(f"fast_p vs {baseline}")
    axis.set_ylim(0, 1.02)
    axis.set_title(f"fast_p over p (vs torch {baseline})")
    axis.legend()
    figure.tight_layout()
    return figure


def all_figures(columns: Sequence[RunColumn]) -> dict[str, object]:
    """A fast_p curve against torch.compile only for the runs that timed it (a flat 0 would read as a result)."""
    figures = {"speedup-distribution": speedup_distribution(columns), "fast-p-eager": fast_p_curve(columns, "eager")}
    timed = [c for c in columns if measured(c.outcomes, "compile")]
    if timed:
        figures["fast-p-compile"] = fast_p_curve(timed, "compile")
    return figures


def save(figures: dict[str, object], out: Path) -> dict[str, str]:
    """Write PNG and SVG of each figure; return title → PNG file name (relative to `out`)."""
    plt = _pyplot()
    names = {}
    for name, figure in figures.items():
        figure.savefig(out / f"{name}.png", dpi=110)
        figure.savefig(out / f"{name}.svg")
        names[name] = f"{name}.png"
        plt.close(figure)
    return names


def inline_svgs(figures: dict[str, object]) -> dict[str, str]:
    plt = _pyplot()
    svgs = {}
    for name, figure in figures.items():
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
        text = buffer.getvalue()
        svgs[name] = text[text.index("<svg"):]
        plt.close(figure)
    return svgs
