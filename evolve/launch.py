"""Starting, resuming and summarizing campaigns: what the `stark run/resume/status` commands call."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from evolve.campaign import Campaign, CampaignError
from evolve.config import CampaignConfig, load_config
from evolve.db.store import ProgramStore
from evolve.progress import CampaignProgress
from evolve.run_dir import RunDir
from evolve.typed_config import build, to_data
from kernelbench.score_label import ScoreLabel, score_label


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    name: str
    status: str
    problem: str
    attempts: int
    counts: dict[str, int]
    best_program: int | None
    best_score: float | None           # oriented: higher is better ("min" objectives negated)
    best_value: float | None           # as the objective reads (score_label.value)
    score_label: ScoreLabel
    elapsed_s: float
    llm: dict[str, float]
    islands: dict[int, int]
    best_interval: tuple[float, float] | None = None
    """95% bootstrap interval of the best kernel's speedup, from its latest (re-)measurement."""
    best_remeasured: bool = False

    def best_text(self) -> str:
        """The best score as people should read it: with its interval, and a warning when it may be noise."""
        text = self.score_label.format(self.best_score)
        if self.best_interval is not None:
            low, high = self.best_interval
            text += f" (95% CI {low:.3f}-{high:.3f}"
            text += ", includes 1.0x: not distinguishable from the reference)" if low <= 1.0 <= high else ")"
        return text


def ensure_ray(address: str | None = None) -> None:
    """Join the cluster at `address` (or RAY_ADDRESS), else start a local Ray on this machine's cores."""
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)


def run_dir_for(config: CampaignConfig, runs_root: str | Path) -> RunDir:
    return RunDir(Path(runs_root) / config.campaign.name)


def start_campaign(config_path: str | Path, overrides: list[str] = (), runs_root: str | Path = "runs",
                   console: Console | None = None, show_progress: bool = True) -> CampaignSummary:
    config = load_config(config_path, list(overrides))
    if not Path(config.campaign.seed_program).is_file():
        raise CampaignError(f"seed program not found: {config.campaign.seed_program}")
    run_dir = run_dir_for(config, runs_root)
    if run_dir.config.exists():
        raise CampaignError(f"{run_dir.root} already holds a campaign; `stark resume {run_dir.root}` continues it")
    run_dir.write_config(to_data(config))
    store = ProgramStore(run_dir.database_target(config.campaign.database))
    try:
        campaign_id = store.create_campaign(config.campaign.name, config.campaign.problem, to_data(config))
        return _drive(config, run_dir, store, campaign_id, console, show_progress)
    finally:
        store.close()


def resume_campaign(run_root: str | Path, console: Console | None = None, show_progress: bool = True,
                    extra_iterations: int = 0) -> CampaignSummary:
    run_dir = RunDir(Path(run_root))
    data = run_dir.read_config()
    if extra_iterations:
        data["budget"]["iterations"] += extra_iterations
    config = build(CampaignConfig, data)
    store = ProgramStore(run_dir.database_target(config.campaign.database), create=False)
    try:
        campaign_id = store.campaign_id(config.campaign.name)
        run_dir.append_log("resume")
        return _drive(config, run_dir, store, campaign_id, console, show_progress)
    finally:
        store.close()


def _drive(config: CampaignConfig, run_dir: RunDir, store: ProgramStore, campaign_id: int,
           console: Console | None, show_progress: bool) -> CampaignSummary:
    ensure_ray()
    label = score_label(config.campaign.problem, config.evolve.objectives)
    with CampaignProgress(config.budget.iterations, console, show_progress, label) as progress:
        Campaign(config, run_dir, store, campaign_id, progress).run()
    return summarize(store, campaign_id)


def summarize(store: ProgramStore, campaign_id: int) -> CampaignSummary:
    campaign = store.campaign(campaign_id)
    best = store.best_program(campaign_id)
    islands: dict[int, int] = {}
    for member in store.programs(campaign_id, in_population=True):
        islands[member.island] = islands.get(member.island, 0) + 1
    state = campaign["state"]
    label = score_label(campaign["problem_id"], campaign["config"].get("evolve", {}).get("objectives", ()))
    latest = (store.evaluations(best.id) or [{}])[-1] if best is not None else {}
    interval = ((latest.get("profile") or {}).get("speedup_ci")) if label.ratio else None
    return CampaignSummary(campaign["name"], campaign["status"], campaign["problem_id"],
                           max(0, state.get("next_attempt", 1) - 1), store.status_counts(campaign_id),
                           None if best is None else best.id, None if best is None else best.score,
                           None if best is None else label.value(best.score), label,
                           float(state.get("elapsed_s", 0.0)), store.llm_totals(campaign_id), dict(sorted(islands.items())),
                           tuple(interval) if interval else None, bool(latest.get("remeasured")))


def campaign_status(run_root: str | Path) -> CampaignSummary:
    run_dir = RunDir(Path(run_root))
    config = build(CampaignConfig, run_dir.read_config())
    store = ProgramStore(run_dir.database_target(config.campaign.database), create=False)
    try:
        return summarize(store, store.campaign_id(config.campaign.name))
    finally:
        store.close()
