"""Reading campaigns back as leaderboard outcomes: each runs directory becomes one column."""

from __future__ import annotations

import re
from pathlib import Path

from evolve.runs_index import find_runs
from evolve.config import CampaignConfig
from kernelbench.leaderboard import DiscoveryOutcome, RunColumn
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


def settings_of(config: CampaignConfig) -> dict[str, str]:
    """What a campaign ran under, as the report prints it: budget, agents, judge, search."""
    budget = config.budget
    agents = config.agents
    role = lambda r: r.kind if r.kind == "offline" else f"{r.kind} {r.llm.model}"  # noqa: E731
    evaluator = config.evaluator
    return {
        "budget": ", ".join(part for part in (
            f"{budget.iterations} attempts" if budget.iterations else "",
            f"{budget.wall_time_s:g} s" if budget.wall_time_s else "",
            f"{budget.llm_tokens:,} tokens" if budget.llm_tokens else "",
            f"${budget.usd:g}" if budget.usd else "") if part) or "unlimited",
        "agents": f"planner {role(agents.planner)}; coder {role(agents.coder)}; reviewer {role(agents.reviewer)}",
        "judge": (f"{evaluator.harness} harness on {evaluator.backend}, {evaluator.trials} trials, "
                  f"{evaluator.repeats} timed rounds, {evaluator.threads} thread(s), shapes "
                  f"{config.shape_set}, torch.compile "
                  f"{'timed' if evaluator.compare_compile else 'not timed'}"),
        "search": (f"{config.evolve.sampler}, {config.evolve.islands} island(s) of {config.evolve.island_capacity}, "
                   f"{config.pipeline.proposals_in_flight} in flight"),
    }


def merged_settings(per_campaign: list[dict[str, str]]) -> dict[str, str]:
    """One value per setting when every campaign agrees, else each distinct value with how many used it."""
    merged: dict[str, str] = {}
    for key in dict.fromkeys(k for settings in per_campaign for k in settings):
        counts: dict[str, int] = {}
        for settings in per_campaign:
            counts[settings.get(key, "")] = counts.get(settings.get(key, ""), 0) + 1
        merged[key] = next(iter(counts)) if len(counts) == 1 else "; ".join(f"{v} (x{n})" for v, n in counts.items())
    return merged


def _metrics(result: dict) -> tuple[dict, dict]:
    return result.get("metrics") or {}, result.get("holdout_metrics") or {}


def discovery_outcome(run: str, store, campaign_id: int, campaign: dict, config: CampaignConfig) -> DiscoveryOutcome:
    from kernelbench.discovery import load_discovery_problem
    from kernelbench.score_label import score_label

    label = score_label(campaign["problem_id"], config.evolve.objectives)
    metric, better = label.name, (min if label.direction == "min" else max)
    best, seed = store.best_program(campaign_id), store.seed_program(campaign_id)
    latest = lambda program: (store.evaluations(program.id) or [{}])[-1] if program else {}  # noqa: E731
    evolved, evolved_holdout = _metrics(latest(best))
    seed_metrics, _ = _metrics(latest(seed))
    problem = load_discovery_problem(campaign["problem_id"].split("/", 1)[1])
    on_train = {n: problem.evaluate_baseline(n, "train") for n in getattr(problem, "BASELINES", ())}   # simulated
    train = {n: metrics[metric] for n, metrics in on_train.items() if metric in metrics}
    chosen = better(train, key=train.get) if train else ""
    holdout = problem.evaluate_baseline(chosen, "holdout").get(metric) if chosen else None
    return DiscoveryOutcome(run, campaign["problem_id"], metric, label.direction, seed_metrics.get(metric),
                            evolved.get(metric), evolved_holdout.get(metric), chosen, train.get(chosen),
                            holdout, best.id if best else None, store.attempts_done(campaign_id))


def read_runs(root: str | Path, name: str | None = None) -> tuple[RunColumn | None, list[DiscoveryOutcome]]:
    """A runs directory as one leaderboard column (its kernel campaigns) and its discovery results."""
    name = name or Path(root).resolve().name
    outcomes, environment, harnesses, sources, settings, discovery = [], {}, set(), {}, [], []
    for entry in find_runs(root):
        store = entry.open_store()
        try:
            campaign_id = store.campaign_id(entry.config.campaign.name)
            campaign = store.campaign(campaign_id)
            if campaign["problem_id"].startswith("discovery/"):
                discovery.append(discovery_outcome(name, store, campaign_id, campaign, entry.config))
                continue
            settings.append(settings_of(entry.config))
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
                speedup_interval=_interval(result),
                roofline_fraction=((result.get("profile") or {}).get("roofline") or {}).get("fraction")))
        finally:
            store.close()
    if not outcomes:
        return None, discovery
    harness = harnesses.pop() if len(harnesses) == 1 else "mixed"
    if harness == "kernelbench":
        outcomes = with_missing_as_failed(outcomes, sources)
    return RunColumn(name, tuple(outcomes), environment, harness,
                     {"campaigns": str(len(settings)), **merged_settings(settings)}), discovery


def run_column(root: str | Path, name: str | None = None) -> RunColumn:
    """The kernel campaigns under `root` as one column; a directory without any is a one-line error."""
    column, discovery = read_runs(root, name)
    if column is None:
        why = (f" ({len(discovery)} discovery campaign(s) there: their scores are simulator objectives, not kernel "
               "speedups; they get a table of their own)" if discovery else "")
        raise FileNotFoundError(f"no kernel campaigns under {root}{why}")
    return column
