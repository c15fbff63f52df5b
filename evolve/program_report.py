"""One program as `stark show` prints it: its code and lineage, its evaluations, and every LLM call of its
attempt with what the model was asked and answered.  Read-only, like `stark status`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from evolve.db.engine import StoreError, database_errors_as_one_line
from evolve.db.store import ProgramStore
from evolve.run_config import build_run_config, read_run_config
from evolve.run_dir import RunDir


def program_report(run_root: str | Path, program_id: int) -> dict[str, Any]:
    run_dir = RunDir(Path(run_root))
    config = build_run_config(run_dir, read_run_config(run_dir))
    store = ProgramStore(run_dir.database_target(config.campaign.database), create=False, read_only=True)
    try:
        with database_errors_as_one_line(store.url):
            campaign_id = store.campaign_id(config.campaign.name)
            try:
                program = store.program(program_id)
            except StoreError:
                raise StoreError(f"no program {program_id} in {run_dir.root} "
                                 f"(`stark status {run_dir.root}` shows the run)") from None
            return {"program": dataclasses.asdict(program), "evaluations": store.evaluations(program_id),
                    "llm_calls": store.llm_calls(campaign_id, attempt=program.attempt)}
    finally:
        store.close()
