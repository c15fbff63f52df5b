"""`stark serve`: a read-only web viewer of the campaigns under a runs directory.

Server-rendered shell plus a small script (no CDN: every asset is served from this package); the page
polls the summary every two seconds and reloads what changed, so a running campaign updates live.
SQLite (WAL) and PostgreSQL runs are read the same way; nothing here writes to a database.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from evolve.db.engine import StoreError
from evolve.db.store import ProgramStore
from evolve.runs_index import RunEntry, find_runs
from evolve.viewer import queries

STATIC = Path(__file__).parent / "static"


class RunsCatalog:
    """Run directories found under the root, rescanned on each listing; one open store per run."""

    def __init__(self, root: Path):
        self.root = root
        self.stores: dict[str, ProgramStore] = {}

    def entries(self) -> dict[str, RunEntry]:
        return {entry.key: entry for entry in find_runs(self.root)}

    def open(self, key: str) -> tuple[RunEntry, ProgramStore]:
        entry = self.entries().get(key)
        if entry is None:
            raise HTTPException(404, f"no campaign {key!r} under {self.root}")
        if key not in self.stores:
            try:
                self.stores[key] = entry.open_store()
            except StoreError as exc:
                raise HTTPException(409, str(exc)) from None
        return entry, self.stores[key]

    def close(self) -> None:
        for store in self.stores.values():
            store.close()


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

    @app.get("/api/campaigns")
    def campaigns() -> list[dict]:
        listing = []
        for key in catalog.entries():
            try:
                entry, store = catalog.open(key)
                listing.append(queries.campaign_overview(entry, store))
            except HTTPException as exc:
                listing.append({"key": key, "error": exc.detail})
        return listing

    @app.get("/api/campaigns/{key}")
    def campaign(key: str) -> dict:
        entry, store = catalog.open(key)
        return queries.campaign_overview(entry, store)

    @app.get("/api/campaigns/{key}/programs")
    def programs(key: str) -> list[dict]:
        entry, store = catalog.open(key)
        return queries.program_rows(store, store.campaign_id(entry.config.campaign.name))

    @app.get("/api/campaigns/{key}/programs/{program_id}")
    def program(key: str, program_id: int) -> dict:
        entry, store = catalog.open(key)
        try:
            detail = queries.program_detail(store, program_id, store.campaign_id(entry.config.campaign.name))
        except StoreError:
            raise HTTPException(404, f"no program {program_id}") from None
        return detail

    @app.get("/api/campaigns/{key}/baselines")
    def baselines(key: str) -> dict:
        entry, _ = catalog.open(key)
        objectives = entry.config.evolve.objectives
        return queries.problem_baselines(entry.config.campaign.problem, objectives[0].name if objectives else "")

    @app.get("/api/campaigns/{key}/llm")
    def llm(key: str) -> dict:
        entry, store = catalog.open(key)
        return queries.llm_calls(store, store.campaign_id(entry.config.campaign.name))

    @app.get("/api/campaigns/{key}/llm/{call_id}")
    def llm_call(key: str, call_id: int) -> dict:
        entry, store = catalog.open(key)
        call = queries.llm_call_text(store, store.campaign_id(entry.config.campaign.name), call_id)
        if call is None:
            raise HTTPException(404, f"no LLM call {call_id}")
        return call

    return app
