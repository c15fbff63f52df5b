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


def level_problems(problem_id: str, kernelbench_dir: str) -> list[tuple[str, int]]:
    """Every problem of the level `problem_id` belongs to, from the same source (shipped, or the checkout)."""
    from kernelbench.problem import ProblemError
    from kernelbench.registry import builtin_problems, kernelbench_problems

    level = level_of(problem_id)
    try:
        refs = kernelbench_problems(kernelbench_dir) if problem_id.startswith("kb/") else builtin_problems()
    except ProblemError:
        return []
    return [(ref.problem_id, ref.level) for ref in refs if ref.level == level]


def with_missing_as_failed(outcomes: list[ProblemOutcome], sources: dict[int, tuple[str, str]]) -> list[ProblemOutcome]:
    """KernelBench's denominator: every problem of each level run, those without a campaign counted as failed."""
    have = {o.problem_id for o in outcomes}
    missing = {pid: level for some_id, kernelbench_dir in sources.values()
               for pid, level in level_problems(some_id, kernelbench_dir) if pid not in have}
    return outcomes + [ProblemOutcome(pid, level, correct=False) for pid, level in sorted(missing.items())]


def run_column(root: str | Path, name: str | None = None) -> RunColumn:
    outcomes, environment, harnesses, sources, skipped = [], {}, set(), {}, 0
    for entry in find_runs(root):
        store = entry.open_store()
        try:
            campaign_id = store.campaign_id(entry.config.campaign.name)
            campaign = store.campaign(campaign_id)
            if campaign["problem_id"].startswith("discovery/"):
                skipped += 1                  # a simulator score, not a kernel speedup: not on this leaderboard
                continue
            harnesses.add(entry.config.evaluator.harness)
            level = level_of(campaign["problem_id"])
            sources.setdefault(level, (campaign["problem_id"], entry.config.campaign.kernelbench_dir))
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
        why = (f" ({skipped} discovery campaign(s) there: their scores are simulator objectives, not kernel speedups; "
               "`stark status` and the viewer show them)" if skipped else "")
        raise FileNotFoundError(f"no kernel campaigns under {root}{why}")
    harness = harnesses.pop() if len(harnesses) == 1 else "mixed"
    if harness == "kernelbench":
        outcomes = with_missing_as_failed(outcomes, sources)
    return RunColumn(name or Path(root).resolve().name, tuple(outcomes), environment, harness)
