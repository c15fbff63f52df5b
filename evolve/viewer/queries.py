"""What the viewer shows, read from a program database as plain JSON-able dicts."""

from __future__ import annotations

import functools
from datetime import datetime
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from evolve.db.models import Evaluation, LLMCall, Program
from evolve.db.engine import StoreError
from evolve.db.store import ProgramStore, llm_call_dict
from evolve.population import cell_of
from evolve.run_lock import held_since, holder_of, live_elapsed, live_status
from evolve.runs_index import RunEntry
from kernelbench.score_label import score_label


def campaign_overview(entry: RunEntry, store: ProgramStore, campaign_id: int) -> dict[str, Any]:
    """What the summary shows, as the database has it; `live_fields` adds what depends on the lock's holder and
    the clock, which change without the database changing."""
    campaign = store.campaign(campaign_id)
    best = store.best_program(campaign_id)
    descriptors = entry.config.evolve.features
    islands: dict[int, dict[str, Any]] = {}
    for member in store.population(campaign_id):
        slot = islands.setdefault(member.island, {"island": member.island, "members": 0, "cells": {}})
        slot["members"] += 1
        cell = ",".join(str(b) for b in cell_of(member, descriptors))
        if cell not in slot["cells"] or member.score > slot["cells"][cell]:
            slot["cells"][cell] = member.score
    counts = store.status_counts(campaign_id)
    return {
        "key": entry.key, "name": campaign["name"], "problem": campaign["problem_id"],
        "recorded_status": campaign["status"], "saved_elapsed_s": campaign["state"].get("elapsed_s", 0.0),
        "attempts": store.attempts_done(campaign_id), "counts": counts,
        "programs": sum(counts.values()), "best": None if best is None else {"id": best.id, "score": best.score},
        "llm": store.llm_totals(campaign_id), "updated_at": campaign["updated_at"].isoformat(),
        "islands": [islands[k] for k in sorted(islands)],
        "descriptors": [{"name": d.name, "edges": list(d.edges)} for d in descriptors],
        "objectives": [{"name": o.name, "direction": o.direction} for o in entry.config.evolve.objectives],
        "score_label": asdict(score_label(campaign["problem_id"], entry.config.evolve.objectives)),
        "budget": {"iterations": entry.config.budget.iterations, "wall_time_s": entry.config.budget.wall_time_s},
    }


def live_fields(entry: RunEntry, summary: dict[str, Any]) -> dict[str, Any]:
    """Status and elapsed time as of now: who holds the run, and the time since the loop's last heartbeat."""
    root = entry.run_dir.root
    holder, since = holder_of(root), held_since(root)
    updated_at = datetime.fromisoformat(summary["updated_at"])
    recorded = summary["recorded_status"]
    return {"status": live_status(recorded, holder, updated_at, since),
            "elapsed_s": live_elapsed(summary["saved_elapsed_s"], updated_at, recorded, holder, since)}


def with_best_so_far(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in id order, each with the best score of any correct program up to it (scores of "min" objectives
    are negative: no 0.0 floor)."""
    best = None
    for row in rows:
        if row["correct"] and row["score"] is not None and (best is None or row["score"] > best):
            best = row["score"]
        row["best_so_far"] = best
    return rows


def program_detail(store: ProgramStore, program_id: int, campaign_id: int) -> dict[str, Any]:
    with store.session() as s:
        if s.scalar(select(Program.campaign_id).where(Program.id == program_id)) != campaign_id:
            raise StoreError(f"no program {program_id} in this campaign")
    record = store.program(program_id)
    with store.session() as s:
        evaluations = [{"passed": e.passed, "failure_stage": e.failure_stage, "failure_kind": e.failure_kind,
                        "message": e.message, "speedup_vs_eager": e.speedup_vs_eager,
                        "speedup_vs_compile": e.speedup_vs_compile, "runtime_us": e.runtime_us, "stages": e.stages,
                        "profile": (e.result or {}).get("profile"),
                        "remeasured": bool((e.result or {}).get("remeasured")),
                        "cost_model": (e.result or {}).get("cost_model"),
                        "metrics": (e.result or {}).get("metrics") or {},
                        "holdout_metrics": (e.result or {}).get("holdout_metrics") or {},
                        "output_tail": ((e.result or {}).get("failure") or {}).get("output_tail", ""),
                        "created_at": str(e.created_at)}
                       for e in s.scalars(select(Evaluation).where(Evaluation.program_id == program_id)
                                          .order_by(Evaluation.id))]
    llm = [{**c, "tokens": c["prompt_tokens"] + c["completion_tokens"]}
           for c in store.llm_calls(campaign_id, attempt=record.attempt, with_text=False)]
    return {"id": record.id, "parent_id": record.parent_id, "attempt": record.attempt, "island": record.island,
            "generation": record.generation, "origin": record.origin, "strategy": record.strategy,
            "status": record.status, "correct": record.correct, "score": record.score, "note": record.note,
            "source": record.source, "diff": record.diff, "objectives": list(record.objectives),
            "features": record.features, "in_population": record.in_population, "evaluations": evaluations,
            "duplicate_of": record.duplicate_of,
            "llm_calls": llm}


def llm_call_text(store: ProgramStore, campaign_id: int, call_id: int) -> dict[str, Any] | None:
    """One call with what it was asked and what it answered; fetched when a reader opens it."""
    calls = store.llm_calls(campaign_id, call_id=call_id)
    return calls[0] if calls else None


def llm_calls(store: ProgramStore, campaign_id: int, limit: int = 500) -> dict[str, Any]:
    """The newest `limit` calls to list, and per-role totals over all of them (not just those listed)."""
    with store.session() as s:
        calls = [llm_call_dict(c, with_text=False)
                 for c in s.scalars(select(LLMCall).where(LLMCall.campaign_id == campaign_id)
                                    .order_by(LLMCall.id.desc()).limit(limit))]
    return {"calls": calls, "by_role": store.llm_totals_by_role(campaign_id)}


@functools.lru_cache(maxsize=32)
def problem_baselines(problem_id: str, metric: str) -> dict[str, Any]:
    """A discovery problem's baselines on its training instances, in the campaign's primary metric.

    They are simulated here (a second or two, once per problem) so the best-so-far chart can show where the
    evolved programs stand; kernels have none (their score is already a ratio over eager)."""
    if not problem_id.startswith("discovery/"):
        return {"metric": metric, "baselines": []}
    from kernelbench.discovery import baseline_metrics, load_discovery_problem

    problem = load_discovery_problem(problem_id.split("/", 1)[1])
    if metric not in problem.METRICS or not hasattr(problem, "evaluate_baseline"):
        return {"metric": metric, "baselines": []}
    return {"metric": metric, "baselines": [{"name": name, "value": metrics[metric]}
                                            for name, metrics in baseline_metrics(problem, "train").items()]}


def spend_by_attempt(store: ProgramStore, campaign_id: int) -> list[list[float]]:
    """[attempt, tokens, dollars] per attempt that called an LLM, in attempt order: the x axis of a chart drawn
    against what the search has spent."""
    query = (select(LLMCall.attempt, func.sum(LLMCall.prompt_tokens + LLMCall.completion_tokens),
                    func.sum(LLMCall.cost_usd))
             .where(LLMCall.campaign_id == campaign_id, LLMCall.attempt.is_not(None))
             .group_by(LLMCall.attempt).order_by(LLMCall.attempt))
    with store.session() as s:
        return [[attempt, int(tokens or 0), float(cost or 0.0)] for attempt, tokens, cost in s.execute(query)]


def speedup_intervals(store: ProgramStore, campaign_id: int, program_ids: list[int]) -> dict[int, list[float]]:
    """The 95% interval of each program's speedup from its latest evaluation (programs the judge timed): what the
    charts draw as whiskers on the best-so-far steps and the front."""
    query = (select(Evaluation.program_id, Evaluation.result).join(Program, Program.id == Evaluation.program_id)
             .where(Program.campaign_id == campaign_id, Evaluation.program_id.in_(program_ids))
             .order_by(Evaluation.id))
    latest: dict[int, dict] = {}
    with store.session() as s:
        for program_id, result in s.execute(query):
            latest[program_id] = result or {}
    intervals = {}
    for program_id, result in latest.items():
        interval = (result.get("profile") or {}).get("speedup_ci")
        if interval:
            intervals[program_id] = [float(interval[0]), float(interval[1])]
    return intervals


def cost_model_calls(store: ProgramStore, campaign_id: int) -> dict[str, Any]:
    """The rank stage's calls beside what was measured: each ranked candidate's prediction (and upper bound) with
    its measured speedup when it was timed; Kendall's tau over those; the profile seconds it skipped, estimated
    as the untimed count times the mean profile of the timed ones."""
    from scipy.stats import kendalltau

    query = (select(Evaluation.program_id, Evaluation.result, Evaluation.stages)
             .join(Program, Program.id == Evaluation.program_id).where(Program.campaign_id == campaign_id)
             .order_by(Evaluation.id))
    calls, profile_seconds = {}, []
    with store.session() as s:
        for program_id, result, stages in s.execute(query):
            ranked = (result or {}).get("cost_model")
            if not ranked:
                continue
            measured = (result or {}).get("speedup_vs_eager") if (result or {}).get("profile") else None
            calls[program_id] = {"id": program_id, **ranked, "measured": measured}
            if measured is not None:
                profile_seconds += [st["seconds"] for st in stages or () if st.get("stage") == "profile"]
    rows = list(calls.values())
    paired = [(r["predicted"], r["measured"]) for r in rows if r["predicted"] is not None and r["measured"]]
    tau = float(kendalltau(*zip(*paired)).statistic) if len(paired) >= 3 else None
    untimed = sum(not r["timed"] for r in rows)
    mean_profile = sum(profile_seconds) / len(profile_seconds) if profile_seconds else 0.0
    return {"calls": rows, "summary": {"ranked": len(rows), "untimed": untimed, "paired": len(paired),
                                       "kendall_tau": tau, "profile_seconds": sum(profile_seconds),
                                       "skipped_seconds_estimate": untimed * mean_profile}}
