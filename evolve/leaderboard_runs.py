"""Reading campaigns back as leaderboard outcomes: each runs directory becomes one column."""

from __future__ import annotations

import re
from pathlib import Path

from evolve.runs_index import find_runs
from kernelbench.leaderboard import RunColumn
from kernelbench.metrics import ProblemOutcome

_LEVEL = re.compile(r"level(\d+)")


def level_of(problem_id: str) -> int:
    match = _LEVEL.search(problem_id)
    return int(match.group(1)) if match else 0


def _interval(result: dict) -> tuple[float, float] | None:
    interval = (result.get("profile") or {}).get("speedup_ci")
    return (float(interval[0]), float(interval[1])) if interval else None


def run_column(root: str | Path, name: str | None = None) -> RunColumn:
    outcomes, environment = [], {}
    for entry in find_runs(root):
        store = entry.open_store()
        try:
            campaign_id = store.campaign_id(entry.config.campaign.name)
            campaign = store.campaign(campaign_id)
            if campaign["problem_id"].startswith("discovery/"):
                continue                      # a simulator score, not a kernel speedup: not on this leaderboard
            best = store.best_program(campaign_id)
            correct = [p for p in store.programs(campaign_id, statuses=["evaluated"]) if p.origin != "migration"]
            llm = store.llm_totals(campaign_id)
            result = store.evaluations(best.id)[-1] if best is not None and store.evaluations(best.id) else {}
            environment = environment or dict(result.get("environment", {}))
            outcomes.append(ProblemOutcome(
                problem_id=campaign["problem_id"], level=level_of(campaign["problem_id"]), correct=best is not None,
                speedup_vs_eager=None if best is None else result.get("speedup_vs_eager", best.score),
                speedup_vs_compile=result.get("speedup_vs_compile"),
                best_program=None if best is None else best.id,
                attempts=store.attempts_done(campaign_id),
                attempts_to_first_correct=min((p.attempt for p in correct), default=None),
                tokens=int(llm["prompt_tokens"] + llm["completion_tokens"]), cost_usd=float(llm["cost_usd"]),
                speedup_interval=_interval(result)))
        finally:
            store.close()
    if not outcomes:
        raise FileNotFoundError(f"no kernel campaigns under {root}")
    return RunColumn(name or Path(root).resolve().name, tuple(outcomes), environment)
