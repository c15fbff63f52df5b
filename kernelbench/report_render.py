"""Rendering a leaderboard as Markdown or self-contained HTML, with its plots beside it.

Three tables: a compact summary (one row per run and scope, one metric per column), the problems (one value per
cell, sortable in HTML), and discovery campaigns in their objectives' own units.  A baseline no campaign timed
reads "not measured", never 0%; and every report says when, from which commit and under what settings it was made.
"""

from __future__ import annotations

import html
from typing import Any

from kernelbench.metrics import BASELINES

SUMMARY_THRESHOLDS = ("1.0", "1.5", "2.0")
"""fast_p columns of the summary (fast_0 is the correct column); the JSON keeps every KernelBench threshold."""
NOT_MEASURED = "not measured"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def summary_rows(board: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["run", "scope", "problems", "correct"]
    for baseline in BASELINES:
        header += [f"fast_{float(p):g} vs {baseline}" for p in SUMMARY_THRESHOLDS] + [f"geomean vs {baseline}"]
    header += ["tokens", "cost"]
    rows = []
    scopes = [("overall", board["overall"])] + [(f"level {k}", v) for k, v in board["levels"].items()]
    for run in board["runs"]:
        measured = board.get("measured", {}).get(run, {})
        for scope, by_run in scopes:
            s = by_run[run]
            if not s["problems"]:
                continue
            row = [run, scope, str(s["problems"]), _pct(s["correctness_rate"])]
            for baseline in BASELINES:
                if not measured.get(baseline, True):
                    row += [NOT_MEASURED] * (len(SUMMARY_THRESHOLDS) + 1)
                    continue
                fast = s["fast_p"][baseline]
                row += [_pct(fast[str(float(p))]) for p in SUMMARY_THRESHOLDS] + [_x(s["geomean_speedup"][baseline])]
            row += [f"{s['tokens']:,}", f"${s['cost_usd']:.2f}"]
            rows.append(row)
    return header, rows


PROBLEM_FIELDS = (("best program", lambda o: f"#{o['best_program']}" if o["best_program"] else "—"),
                  ("vs eager", lambda o: _x(o["speedup_vs_eager"])),
                  ("95% CI", lambda o: _interval(o)),
                  ("vs compile", lambda o: _x(o["speedup_vs_compile"])),
                  ("roofline", lambda o: _pct(o.get("roofline_fraction"))),
                  ("first correct at", lambda o: "—" if o["attempts_to_first_correct"] is None
                   else str(o["attempts_to_first_correct"])),
                  ("attempts", lambda o: str(o["attempts"])),
                  ("tokens", lambda o: f"{o['tokens']:,}"),
                  ("cost", lambda o: f"${o['cost_usd']:.2f}"))


def problem_rows(board: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    runs = board["runs"]
    prefix = (lambda run: f"{run}: ") if len(runs) > 1 else (lambda run: "")
    header = ["problem", "level"] + [f"{prefix(run)}{name}" for run in runs for name, _ in PROBLEM_FIELDS]
    rows = []
    for problem in board["problems"]:
        cells = [problem["problem_id"], str(problem["level"])]
        for run in runs:
            o = problem["runs"][run]
            if o is None:
                cells += ["not run"] + [""] * (len(PROBLEM_FIELDS) - 1)
            elif not o["correct"]:
                cells += ["none correct", "—", "", "—", "—", "—", str(o["attempts"]), f"{o['tokens']:,}",
                          f"${o['cost_usd']:.2f}"]
            else:
                cells += [show(o) for _, show in PROBLEM_FIELDS]
        rows.append(cells)
    return header, rows


def _interval(outcome: dict[str, Any]) -> str:
    """The speedup's 95% interval; one that includes 1.0 is flagged: the 'win' may be noise."""
    interval = outcome.get("speedup_interval")
    if not interval:
        return "—"
    low, high = interval
    return f"{low:.2f}–{high:.2f}{' (~1.0)' if low <= 1.0 <= high else ''}"


def discovery_rows(board: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["run", "problem", "objective", "seed", "best baseline", "baseline", "evolved", "evolved held-out",
              "baseline held-out", "attempts", "best program"]
    rows = []
    for d in board.get("discovery", []):
        arrow = "↓ lower is better" if d["direction"] == "min" else "↑ higher is better"
        rows.append([d["run"], d["problem_id"], f"{d['metric']} ({arrow})", _num(d["seed"]), d["best_baseline"] or "—",
                     _num(d["baseline"]), _num(d["evolved"]), _num(d["evolved_holdout"]), _num(d["baseline_holdout"]),
                     str(d["attempts"]), f"#{d['best_program']}" if d["best_program"] else "—"])
    return header, rows


def meta_lines(board: dict[str, Any]) -> list[str]:
    meta = board.get("meta", {})
    lines = [f"Generated {meta.get('date', '?')} by stark {meta.get('commit', '?')}: `{meta.get('command', '')}`"]
    for run, settings in board.get("settings", {}).items():
        lines.append(f"{run}: " + "; ".join(f"{k} {v}" for k, v in settings.items()))
    return lines


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
    parts = ["# KernelBench leaderboard", ""] + [f"- {line}" for line in meta_lines(board)] + [""]
    if board["runs"]:
        parts += ["## Summary", "", _markdown_table(*summary_rows(board)), "",
                  "## Problems", "", _markdown_table(*problem_rows(board)), ""]
    if board.get("discovery"):
        parts += ["## Discovery problems", "", _markdown_table(*discovery_rows(board)), ""]
    parts += ["## Hardware and software", ""] + [f"- {line}" for line in environment_lines(board)]
    if plots:
        parts += ["", "## Plots", ""] + [f"![{title}]({path})" for title, path in plots.items()]
    return "\n".join(parts) + "\n"


def _sort_key(cell: str) -> str:
    """What a column sorts by: the number in the cell when there is one."""
    text = cell.replace(",", "").lstrip("#$").rstrip("x%")
    try:
        return repr(float(text.split("–")[0].split(" ")[0]))
    except ValueError:
        return ""


def _html_table(header: list[str], rows: list[list[str]], sortable: bool = False) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f'<td data-v="{html.escape(_sort_key(c))}">{html.escape(c)}</td>' for c in row)
                   + "</tr>" for row in rows)
    return f"<table{' class=sortable' if sortable else ''}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


SORT_SCRIPT = """<script>
document.querySelectorAll("table.sortable th").forEach((th, column) => th.addEventListener("click", () => {
  const body = th.closest("table").tBodies[0], down = th.dataset.dir !== "down";
  th.closest("tr").querySelectorAll("th").forEach((h) => delete h.dataset.dir);
  th.dataset.dir = down ? "down" : "up";
  const key = (row) => { const c = row.cells[column]; return c.dataset.v !== "" ? Number(c.dataset.v) : c.textContent; };
  const rows = [...body.rows].sort((a, b) => { const x = key(a), y = key(b);
    const order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === "number" ? -1 : 1;
    return down ? -order : order; });
  rows.forEach((row) => body.appendChild(row));
}));
</script>"""


def render_html(board: dict[str, Any], inline_svgs: dict[str, str]) -> str:
    items = lambda lines: "".join(f"<li>{html.escape(line)}</li>" for line in lines)  # noqa: E731
    figures = "".join(f"<figure>{svg}<figcaption>{html.escape(title)}</figcaption></figure>"
                      for title, svg in inline_svgs.items())
    sections = ""
    if board["runs"]:
        sections += (f"<h2>Summary</h2>{_html_table(*summary_rows(board))}<h2>Problems</h2>"
                     f"<p>Click a column to sort.</p>{_html_table(*problem_rows(board), sortable=True)}")
    if board.get("discovery"):
        sections += f"<h2>Discovery problems</h2>{_html_table(*discovery_rows(board), sortable=True)}"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>KernelBench leaderboard</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1400px}}table{{border-collapse:collapse;margin:1rem 0;font-size:13px}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}th{{background:#f3f3f3}}table.sortable th{{cursor:pointer}}
th[data-dir=down]::after{{content:" ▼"}}th[data-dir=up]::after{{content:" ▲"}}figure{{display:inline-block;margin:1rem}}
svg{{max-width:100%;height:auto}}</style>
</head><body><h1>KernelBench leaderboard</h1><ul>{items(meta_lines(board))}</ul>{sections}
<h2>Hardware and software</h2><ul>{items(environment_lines(board))}</ul>
{f"<h2>Plots</h2>{figures}" if figures else ""}{SORT_SCRIPT}</body></html>
"""
