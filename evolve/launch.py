"""Starting, resuming and summarizing campaigns: what the `stark run/resume/status` commands call.

Everything a user can get wrong is checked before anything is started or created: the config, the seed
program, the problem, every LLM endpoint (reachable, and taking the key).  A run is driven under its run
lock; SIGTERM stops it as gracefully as Ctrl-C; database faults (disk full, corruption) end it with one
line naming the file, with everything already recorded intact.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console

from evolve.campaign_error import CampaignError
from evolve.config import CampaignConfig, load_config
from evolve.db.engine import database_errors_as_one_line
from evolve.db.store import ProgramStore
from evolve.progress import CampaignProgress
from evolve.records import RunStatus
from evolve.run_control import RunControl
from evolve.run_dir import RunDir
from evolve.run_config import build_run_config, check_compatible, read_run_config
from evolve.run_lock import RunLock, held_since, holder_of, live_elapsed, live_status, refuse_if_held
from evolve.typed_config import apply_override, build, to_data
from kernelbench.score_label import ScoreLabel, score_label

class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the loop saves and stops."""


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
    holder: str = ""
    """Who is driving the run right now (empty when nobody is)."""
    llm_outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    """LLM calls per role and outcome (ok, truncated, error, empty, cached)."""

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
    os.environ.setdefault("RAY_task_events_report_interval_ms", "0")   # no task timeline: less CPU per Ray call
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)


def run_dir_for(config: CampaignConfig, runs_root: str | Path) -> RunDir:
    return RunDir(Path(runs_root) / config.campaign.name)


# checks before anything starts -------------------------------------------------------------------------------
def check_endpoints(config: CampaignConfig) -> None:
    """One probe per distinct LLM endpoint (a models listing: no tokens); a role that cannot connect or whose
    key is refused stops the start with one line naming the role, the endpoint and the key's variable."""
    from stark.llm.client import MissingKey, OpenAIChatClient

    seen: set[tuple[str, str, str]] = set()
    for role in ("planner", "coder", "reviewer"):
        settings = getattr(config.agents, role)
        if settings.kind != "llm":
            continue
        llm = settings.llm
        if (llm.base_url, llm.model, llm.api_key_env) in seen:
            continue
        seen.add((llm.base_url, llm.model, llm.api_key_env))
        try:
            client = OpenAIChatClient(llm)
        except MissingKey as exc:
            raise CampaignError(f"{role} LLM endpoint: {exc}") from None
        failure = client.probe()
        if failure is None:
            continue
        key_state = "set" if os.environ.get(llm.api_key_env) else "not set"
        key = f"${llm.api_key_env} ({key_state})" if llm.api_key_env else "no key (api_key_env is empty)"
        if failure.kind == "auth":
            what = f"rejects the key in {key}: {failure.message}" if llm.api_key_env else \
                f"wants a key: {failure.message}; set api_key_env to the variable holding it"
        elif failure.kind == "outage":
            what = f"cannot be reached ({failure.message}); is the server running? (sent {key})"
        else:
            what = f"refuses the request ({failure.message}); check the model name and {key}"
        raise CampaignError(f"{role} LLM endpoint {llm.base_url} (model {llm.model}) {what}")


def check_startable(config: CampaignConfig) -> None:
    from kernelbench.registry import resolve_problem

    if not Path(config.campaign.seed_program).is_file():
        raise CampaignError(f"seed program not found: {config.campaign.seed_program}")
    section = config.campaign
    resolve_problem(section.problem, section.kernelbench_dir or None, config.shape_set)
    check_endpoints(config)
    check_prompt_room(config)


def check_prompt_room(config: CampaignConfig) -> None:
    """Every LLM role's context must hold its system prompt, the seed program and the reply; said at start in
    one line rather than as a refusal on every attempt."""
    from stark.agents.prompting import numbered, template
    from stark.llm.tokens import TokenCounter

    seed = numbered(Path(config.campaign.seed_program).read_text())
    for role in ("planner", "coder", "reviewer"):
        settings = getattr(config.agents, role)
        if settings.kind != "llm":
            continue
        llm = settings.llm
        counter = TokenCounter(llm.base_url, llm.model, llm.tokenizer)
        system, program = counter.count(template(role, path=settings.prompt)), counter.count(seed)
        if system + program + llm.max_output_tokens > llm.context_tokens:
            raise CampaignError(f"{role}: context_tokens = {llm.context_tokens} cannot hold the system prompt "
                                f"({system} tokens), the seed program ({program}) and max_output_tokens "
                                f"({llm.max_output_tokens}); raise context_tokens or lower max_output_tokens")


# starting and resuming ----------------------------------------------------------------------------------------
def start_campaign(config_path: str | Path, overrides: list[str] = (), runs_root: str | Path = "runs",
                   console: Console | None = None, show_progress: bool = True,
                   control: RunControl | None = None) -> CampaignSummary:
    config = load_config(config_path, list(overrides))
    check_startable(config)
    run_dir = run_dir_for(config, runs_root)
    refuse_taken(run_dir)                    # before Ray starts: a refusal should take a moment, not seconds
    ensure_ray()
    created = not run_dir.root.exists()
    run_dir.root.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir.root)
    try:
        lock.acquire()
    except Exception:
        if created:
            shutil.rmtree(run_dir.root, ignore_errors=True)
        raise
    try:
        refuse_taken(run_dir, locked_by_us=True)
        if run_dir.config.exists():
            clear_failed_start(run_dir)
        run_dir.write_config(to_data(config))
        store = ProgramStore(run_dir.database_target(config.campaign.database), single_thread=True)
        try:
            lock.hold_database(store.engine, config.campaign.name)
            campaign_id = store.create_campaign(config.campaign.name, config.campaign.problem, to_data(config))
            return _drive(config, run_dir, store, campaign_id, console, show_progress, control)
        finally:
            store.close()
    finally:
        lock.release()


def refuse_taken(run_dir: RunDir, locked_by_us: bool = False) -> None:
    if not locked_by_us:
        refuse_if_held(run_dir.root)
    if run_dir.config.exists() and not failed_at_start(run_dir):
        raise CampaignError(f"{run_dir.root} already holds a campaign; `stark resume {run_dir.root}` continues it")


def failed_at_start(run_dir: RunDir) -> bool:
    """A run that never got past its seed (or never created its database) can be started over in place."""
    try:
        config = build(CampaignConfig, run_dir.read_config())
    except Exception:  # noqa: BLE001 - anything unreadable is not ours to replace
        return False
    if not config.campaign.database and not run_dir.database.exists():
        return True
    try:
        store = ProgramStore(run_dir.database_target(config.campaign.database), create=False, read_only=True)
    except Exception:  # noqa: BLE001
        return False
    try:
        campaign_id = store.campaign_id(config.campaign.name)
        return store.campaign(campaign_id)["status"] == RunStatus.FAILED and store.attempts_done(campaign_id) == 0
    except Exception:  # noqa: BLE001
        return False
    finally:
        store.close()


def clear_failed_start(run_dir: RunDir) -> None:
    for path in (run_dir.config, run_dir.database, run_dir.best,
                 *(run_dir.root / f"campaign.db{suffix}" for suffix in ("-wal", "-shm"))):
        path.unlink(missing_ok=True)
    run_dir.append_log("start over", reason="the previous start failed before any attempt")


def resume_campaign(run_root: str | Path, console: Console | None = None, show_progress: bool = True,
                    extra_iterations: int = 0, overrides: list[str] = (),
                    control: RunControl | None = None) -> CampaignSummary:
    """`overrides` (`--set key=value`) change the saved config before the run goes on, e.g. a moved LLM
    endpoint; keys that define what the run's scores mean are refused (FIXED_AT_START)."""
    if extra_iterations < 0:
        raise CampaignError(f"--more must be 0 or positive, got {extra_iterations}")
    run_dir = RunDir(Path(run_root))
    data = read_run_config(run_dir)
    config = build_run_config(run_dir, data)
    with RunLock(run_dir.root) as lock:
        store = ProgramStore(run_dir.database_target(config.campaign.database), create=False, single_thread=True)
        try:
            lock.hold_database(store.engine, config.campaign.name)
            store.check_integrity()
            campaign_id = store.campaign_id(config.campaign.name)
            campaign = store.campaign(campaign_id)
            for assignment in overrides:
                apply_override(data, assignment)
            check_compatible(campaign["config"], data, run_dir.config)
            if extra_iterations:
                data.setdefault("budget", {})["iterations"] = config.budget.iterations + extra_iterations
            if extra_iterations or overrides:
                config = build_run_config(run_dir, data)
                run_dir.write_config(data)
                store.update_config(campaign_id, to_data(config))
            check_budget_left(config, campaign, store.unfinished_attempts(campaign_id), run_dir,
                              store.last_attempt(campaign_id))
            check_startable(config)
            ensure_ray()
            run_dir.append_log("resume", more=extra_iterations, set=list(overrides))
            return _drive(config, run_dir, store, campaign_id, console, show_progress, control)
        finally:
            store.close()


def check_budget_left(config: CampaignConfig, campaign: dict[str, Any], unfinished: list[int], run_dir: RunDir,
                      last_attempt: int) -> None:
    if unfinished or campaign["status"] == RunStatus.FAILED:
        return
    state, budget = campaign["state"], config.budget
    done = max(0, state.get("next_attempt", 1) - 1, last_attempt)
    if budget.iterations and done >= budget.iterations:
        raise CampaignError(f"campaign {config.campaign.name} already made all {budget.iterations} attempts of its "
                            f"budget; `stark resume {run_dir.root} --more N` adds N more")
    if budget.wall_time_s and state.get("elapsed_s", 0.0) >= budget.wall_time_s:
        raise CampaignError(f"campaign {config.campaign.name} already spent its wall-time budget "
                            f"({budget.wall_time_s:.0f} s); raise budget.wall_time_s in {run_dir.config} to go on")


@contextmanager
def graceful_sigterm() -> Iterator[None]:
    """SIGTERM (a scheduler, `kill`, a container stop) ends the run like Ctrl-C: saved, resumable."""

    def stop(_signum, _frame):
        raise Terminated("SIGTERM")

    if threading.current_thread() is not threading.main_thread():
        yield                          # a campaign driven from a thread (tests, notebooks): signals are not ours
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drive(config: CampaignConfig, run_dir: RunDir, store: ProgramStore, campaign_id: int,
           console: Console | None, show_progress: bool, control: RunControl | None = None) -> CampaignSummary:
    label = score_label(config.campaign.problem, config.evolve.objectives)
    with database_errors_as_one_line(store.url):
        with graceful_sigterm(), CampaignProgress(config.budget.iterations, console, show_progress, label) as progress:
            from evolve.campaign import Campaign       # torch, Ray and the evaluators: not for `stark status`

            try:
                campaign = Campaign(config, run_dir, store, campaign_id, progress, control)
            except Exception as exc:
                store.save_state(campaign_id, status=RunStatus.FAILED)
                run_dir.append_log(RunStatus.FAILED, reason=f"{type(exc).__name__}: {exc}"[:500])
                raise
            campaign.run()
    return summarize(store, campaign_id)


# reading -----------------------------------------------------------------------------------------------------
def summarize(store: ProgramStore, campaign_id: int, holder: str = "") -> CampaignSummary:
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
                           store.attempts_done(campaign_id), store.status_counts(campaign_id),
                           None if best is None else best.id, None if best is None else best.score,
                           None if best is None else label.value(best.score), label,
                           float(state.get("elapsed_s", 0.0)), store.llm_totals(campaign_id), dict(sorted(islands.items())),
                           tuple(interval) if interval else None, bool(latest.get("remeasured")), holder,
                           store.llm_outcomes(campaign_id))


def campaign_status(run_root: str | Path) -> CampaignSummary:
    """Read-only: works on a read-only run directory and never writes to its database."""
    run_dir = RunDir(Path(run_root))
    config = build_run_config(run_dir, read_run_config(run_dir))
    store = ProgramStore(run_dir.database_target(config.campaign.database), create=False, read_only=True)
    try:
        holder, since = holder_of(run_dir.root) or "", held_since(run_dir.root)
        with database_errors_as_one_line(store.url):
            campaign_id = store.campaign_id(config.campaign.name)
            summary = summarize(store, campaign_id, holder)
            saved_at = store.campaign(campaign_id)["updated_at"]
    finally:
        store.close()
    return replace(summary, status=live_status(summary.status, holder, saved_at, since),
                   elapsed_s=live_elapsed(summary.elapsed_s, saved_at, summary.status, holder, since))
