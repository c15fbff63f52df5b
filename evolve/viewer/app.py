"""`stark serve`: a read-only web viewer of the campaigns under a runs directory.

Server-rendered shell plus a small script (no CDN: every asset is served from this package); the page
polls the summary every two seconds and reloads what changed, so a running campaign updates live.
SQLite (WAL) and PostgreSQL runs are read the same way; nothing here writes to a database.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from evolve.db.engine import StoreError
from evolve import skills
from evolve.viewer import exports, queries
from evolve.viewer.catalog import CatalogError, RunsCatalog

STATIC = Path(__file__).parent / "static"


def create_app(runs_root: str | Path) -> FastAPI:
    catalog = RunsCatalog(Path(runs_root))

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        catalog.close()

    app = FastAPI(title="stark viewer", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/")
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.exception_handler(CatalogError)
    async def catalog_error(_request: Request, exc: CatalogError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    def fast_json(data) -> Response:
        """Large answers (20k rows) skip FastAPI's per-value encoder: plain json is several times faster."""
        return Response(json.dumps(data, separators=(",", ":")), media_type="application/json")

    @app.get("/api/campaigns")
    def campaigns() -> list[dict]:
        listing = []
        for key, entry in catalog.scan().items():
            try:
                listing.append(catalog.open(key, entry).overview())
            except (CatalogError, StoreError) as exc:
                listing.append({"key": key, "error": str(exc)})
        return listing

    @app.get("/api/campaigns/{key}")
    def campaign(key: str) -> dict:
        return catalog.open(key).overview()

    @app.get("/api/campaigns/{key}/programs")
    def programs(key: str) -> Response:
        """Every program row with its best so far (what the page keeps, for scripts; the page polls deltas)."""
        rows = exports.rows_as_dicts(catalog.open(key).rows_since("")["rows"])
        return fast_json(queries.with_best_so_far(rows))

    @app.get("/api/campaigns/{key}/program-rows")
    def program_rows(key: str, since: str = "") -> Response:
        """Rows new or changed since the page's cursor (all of them without one): what a live page polls."""
        return fast_json(catalog.open(key).rows_since(since))

    @app.get("/api/campaigns/{key}/programs/{program_id}")
    def program(key: str, program_id: int) -> dict:
        opened = catalog.open(key)
        try:
            detail = queries.program_detail(opened.store, program_id, opened.campaign_id)
        except StoreError:
            raise HTTPException(404, f"no program {program_id}") from None
        return detail

    @app.get("/api/campaigns/{key}/programs/{program_id}/source.py")
    def program_source(key: str, program_id: int) -> Response:
        opened = catalog.open(key)
        source = exports.program_source(opened.store, opened.campaign_id, program_id)
        if source is None:
            raise HTTPException(404, f"no program {program_id}")
        return python_file(source, f"{key}-program-{program_id}.py")

    @app.get("/api/campaigns/{key}/best.py")
    def best_source(key: str) -> Response:
        opened = catalog.open(key)
        best = opened.store.best_program(opened.campaign_id)
        if best is None:
            raise HTTPException(404, f"campaign {key!r} has no correct program yet")
        return python_file(best.source, f"{key}-best-{best.id}.py")

    @app.get("/api/campaigns/{key}/export.json")
    def export_json(key: str) -> Response:
        rows = catalog.open(key).rows_since("")["rows"]
        return Response(json.dumps(exports.rows_as_dicts(rows), indent=1), media_type="application/json",
                        headers=attachment(f"{key}-programs.json"))

    @app.get("/api/campaigns/{key}/export.csv")
    def export_csv(key: str) -> Response:
        rows = catalog.open(key).rows_since("")["rows"]
        return Response(exports.rows_csv(rows), media_type="text/csv", headers=attachment(f"{key}-programs.csv"))

    @app.get("/api/campaigns/{key}/export.html")
    def export_html(key: str) -> Response:
        opened = catalog.open(key)
        responses = exports.snapshot_responses(opened, key)
        responses[f"/api/campaigns/{key}/baselines"] = baselines(key)
        return Response(exports.static_page(responses, opened.entry.config.campaign.name), media_type="text/html",
                        headers=attachment(f"{key}.html"))

    @app.get("/api/campaigns/{key}/best-curve")
    def best_curve(key: str) -> dict:
        opened = catalog.open(key)
        overview = opened.overview()
        return {"key": key, "score_label": overview["score_label"],
                **exports.best_curve(opened.rows_since("")["rows"])}

    @app.get("/api/campaigns/{key}/intervals")
    def intervals(key: str, ids: str = "") -> dict:
        """95% speedup intervals of up to 500 programs (`ids=1,2,3`)."""
        try:
            wanted = [int(i) for i in ids.split(",") if i][:500]
        except ValueError:
            raise HTTPException(400, "ids: a comma-separated list of program ids") from None
        opened = catalog.open(key)
        return {"intervals": queries.speedup_intervals(opened.store, opened.campaign_id, wanted)}

    @app.get("/api/campaigns/{key}/skills")
    def skill_library(key: str) -> dict:
        """The skill library of this campaign's database (every campaign in it), as the planner is offered it."""
        opened = catalog.open(key)
        records = skills.tally(opened.store.skill_evidence())
        problem = opened.entry.config.campaign.problem
        ranked = sorted(records.values(), key=lambda r: (-r.wins, -r.win_rate, r.name))
        return {"skills": [r.as_dict() for r in ranked], "offered": [r.name for r in skills.offered(records, problem)]}

    @app.get("/api/campaigns/{key}/cost-model")
    def cost_model(key: str) -> dict:
        """The rank stage's predictions beside the measurements (empty when the campaign has no rank stage)."""
        opened = catalog.open(key)
        return queries.cost_model_calls(opened.store, opened.campaign_id)

    @app.get("/api/campaigns/{key}/spend")
    def spend(key: str) -> Response:
        opened = catalog.open(key)
        return fast_json({"attempts": queries.spend_by_attempt(opened.store, opened.campaign_id)})

    @app.get("/api/campaigns/{key}/baselines")
    def baselines(key: str) -> dict:
        entry = catalog.open(key).entry
        objectives = entry.config.evolve.objectives
        return queries.problem_baselines(entry.config.campaign.problem, objectives[0].name if objectives else "")

    @app.get("/api/campaigns/{key}/llm")
    def llm(key: str) -> dict:
        opened = catalog.open(key)
        return queries.llm_calls(opened.store, opened.campaign_id)

    @app.get("/api/campaigns/{key}/llm/{call_id}")
    def llm_call(key: str, call_id: int) -> dict:
        opened = catalog.open(key)
        call = queries.llm_call_text(opened.store, opened.campaign_id, call_id)
        if call is None:
            raise HTTPException(404, f"no LLM call {call_id}")
        return call

    return app


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def python_file(source: str, filename: str) -> Response:
    return Response(source, media_type="text/x-python", headers=attachment(filename))
