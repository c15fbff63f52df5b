"""What a reader takes away from the viewer: a program's source, the campaign's rows as CSV or JSON, its
best-so-far curve (for comparing campaigns), and a self-contained HTML snapshot that opens without a server."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from evolve.db.models import Program
from evolve.db.store import ProgramStore
from evolve.viewer import queries
from evolve.viewer.program_feed import COLUMNS

STATIC = Path(__file__).parent / "static"
SCRIPTS = ("format.js", "charts.js", "lineage.js", "app.js")
"""The page's modules in dependency order: the snapshot inlines them as one script."""
DETAILS_IN_SNAPSHOT = 300
"""Program details (sources, diffs, evaluations) a snapshot carries: the best, the population and front, the
newest; the rest show that they are not in it (20k sources would make a 50 MB page)."""


def program_source(store: ProgramStore, campaign_id: int, program_id: int) -> str | None:
    with store.session() as s:
        return s.scalar(select(Program.source).where(Program.id == program_id, Program.campaign_id == campaign_id))


def rows_as_dicts(rows: list[list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS, row)) for row in rows]


def rows_csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def _improving_rows(rows: list[list[Any]]) -> list[list[Any]]:
    """The rows (in id order) that each raised the best score so far; scores oriented (higher is better)."""
    correct_at, score_at = COLUMNS.index("correct"), COLUMNS.index("score")
    improving, best = [], None
    for row in rows:
        if row[correct_at] and row[score_at] is not None and (best is None or row[score_at] > best):
            best = row[score_at]
            improving.append(row)
    return improving


def best_curve(rows: list[list[Any]]) -> dict[str, Any]:
    """(attempt, best score so far) at each improvement."""
    score_at, attempt_at = COLUMNS.index("score"), COLUMNS.index("attempt")
    return {"points": [[row[attempt_at], row[score_at]] for row in _improving_rows(rows)],
            "last_attempt": max((row[attempt_at] for row in rows), default=0)}


def snapshot_ids(rows: list[list[Any]], best_id: int | None) -> list[int]:
    in_population_at, id_at = COLUMNS.index("in_population"), COLUMNS.index("id")
    chosen = dict.fromkeys([best_id] if best_id else [])
    chosen.update(dict.fromkeys(row[id_at] for row in rows if row[in_population_at]))
    for row in reversed(rows):
        if len(chosen) >= DETAILS_IN_SNAPSHOT:
            break
        chosen.setdefault(row[id_at])
    return list(chosen)[:DETAILS_IN_SNAPSHOT]


def static_page(responses: dict[str, Any], title: str) -> str:
    """index.html with the stylesheet and scripts inlined and the API's answers embedded: the page reads them
    instead of the server (`window.STARK_SNAPSHOT`)."""
    page = (STATIC / "index.html").read_text()
    style = (STATIC / "style.css").read_text()
    script = "\n".join(_strip_module((STATIC / name).read_text()) for name in SCRIPTS)
    data = json.dumps(responses, separators=(",", ":")).replace("</", "<\\/")
    page = page.replace('<link rel="stylesheet" href="/static/style.css">', f"<style>\n{style}</style>")
    page = page.replace('<script type="module" src="/static/app.js"></script>',
                        f"<script>window.STARK_SNAPSHOT = {data};</script>\n<script>\n\"use strict\";\n{script}\n</script>")
    return page.replace("<title>stark · campaigns</title>", f"<title>{_html_escape(title)} · stark snapshot</title>")


def _strip_module(source: str) -> str:
    source = re.sub(r"^import .*?;\n", "", source, flags=re.M)
    return re.sub(r"^export (?=(async )?(function|const|class|let) )", "", source, flags=re.M)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def snapshot_responses(opened, key: str) -> dict[str, Any]:
    """The API answers the page asks for, keyed by path, for one campaign."""
    overview = opened.overview()
    feed = opened.rows_since("")
    base = f"/api/campaigns/{key}"
    responses: dict[str, Any] = {"/api/campaigns": [overview], base: overview, f"{base}/program-rows": feed,
                                 f"{base}/llm": queries.llm_calls(opened.store, opened.campaign_id),
                                 f"{base}/baselines": {"metric": "", "baselines": []},
                                 f"{base}/spend": {"attempts": queries.spend_by_attempt(opened.store, opened.campaign_id)}}
    detailed = snapshot_ids(feed["rows"], (overview.get("best") or {}).get("id"))
    improvements = [row[0] for row in _improving_rows(feed["rows"])]
    responses[f"{base}/intervals"] = {"intervals": queries.speedup_intervals(
        opened.store, opened.campaign_id, improvements + detailed)}
    for program_id in detailed:
        responses[f"{base}/programs/{program_id}"] = queries.program_detail(opened.store, program_id,
                                                                            opened.campaign_id)
    return responses
