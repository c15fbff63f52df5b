"""Rendering a leaderboard as Markdown or self-contained HTML, with its plots beside it."""

from __future__ import annotations

import html
from typing import Any

from kernelbench.metrics import BASELINES, FAST_P_THRESHOLDS


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def summary_rows(board: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    runs = board["runs"]
    header = ["scope", "metric", *runs]
    rows = []
    scopes = [("overall", board["overall"])] + [(f"level {k}", v) for k, v in board["levels"].items()]
    for scope, by_run in scopes:
        rows.append([scope, "problems", *(str(by_run[r]["problems"]) for r in runs)])
        rows.append([scope, "correct", *(_pct(by_run[r]["correctness_rate"]) for r in runs)])
        for baseline in BASELINES:
            for p in FAST_P_THRESHOLDS:
                rows.append([scope, f"fast_{p:g} vs {baseline}",
                             *(_pct(by_run[r]["fast_p"][baseline][str(p)]) for r in runs)])
            rows.append([scope, f"geomean speedup vs {baseline}",
                         *(_x(by_run[r]["geomean_speedup"][baseline]) for r in runs)])
        rows.append([scope, "tokens / cost", *(f"{by_run[r]['tokens']:,} / ${by_run[r]['cost_usd']:.2f}" for r in runs)])
    return header, rows


def _interval(outcome: dict[str, Any]) -> str:
    """The speedup's 95% interval; one that includes 1.0 is flagged: the 'win' may be noise."""
    interval = outcome.get("speedup_interval")
    if not interval:
        return ""
    low, high = interval
    return f" [{low:.2f}-{high:.2f}{', ~1.0' if low <= 1.0 <= high else ''}]"


def problem_rows(board: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    runs = board["runs"]
    header = ["problem", *(f"{r}: best (speedup eager [95% CI] / compile, attempts to first correct, tokens, $)"
                           for r in runs)]
    rows = []
    for problem in board["problems"]:
        cells = [problem["problem_id"]]
        for run in runs:
            o = problem["runs"][run]
            if o is None:
                cells.append("not run")
            elif not o["correct"]:
                cells.append(f"no correct program ({o['attempts']} attempts, {o['tokens']:,} tok, ${o['cost_usd']:.2f})")
            else:
                cells.append(f"#{o['best_program']} {_x(o['speedup_vs_eager'])}{_interval(o)} / {_x(o['speedup_vs_compile'])}, "
                             f"first correct at {o['attempts_to_first_correct']}, {o['tokens']:,} tok, ${o['cost_usd']:.2f}")
        rows.append(cells)
    return header, rows


def environment_lines(board: dict[str, Any]) -> list[str]:
    lines = []
    for run, env in board["environment"].items():
        device = env.get("gpu") or env.get("cpu", "?")
        lines.append(f"{run}: {device}; torch {env.get('torch', '?')}; python {env.get('python', '?')}; "
                     f"{env.get('platform', '')}; judged by the {env.get('harness', 'stark')} harness")
    return lines


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(board: dict[str, Any], plots: dict[str, str]) -> str:
    parts = ["# KernelBench leaderboard", "", "## Summary", "", _markdown_table(*summary_rows(board)), "",
             "## Problems", "", _markdown_table(*problem_rows(board)), "", "## Hardware and software", ""]
    parts += [f"- {line}" for line in environment_lines(board)]
    parts += ["", "## Plots", ""] + [f"![{title}]({path})" for title, path in plots.items()]
    return "\n".join(parts) + "\n"


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(board: dict[str, Any], inline_svgs: dict[str, str]) -> str:
    env = "".join(f"<li>{html.escape(line)}</li>" for line in environment_lines(board))
    figures = "".join(f"<figure>{svg}<figcaption>{html.escape(title)}</figcaption></figure>"
                      for title, svg in inline_svgs.items())
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>KernelBench leaderboard</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px}}table{{border-collapse:collapse;margin:1rem 0}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}th{{background:#f3f3f3}}figure{{display:inline-block;margin:1rem}}</style>
</head><body><h1>KernelBench leaderboard</h1><h2>Summary</h2>{_html_table(*summary_rows(board))}
<h2>Problems</h2>{_html_table(*problem_rows(board))}<h2>Hardware and software</h2><ul>{env}</ul>
<h2>Plots</h2>{figures}</body></html>
"""
