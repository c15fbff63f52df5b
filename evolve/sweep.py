"""A sweep: one campaign per problem of a level (or a list), from one config, into one runs directory that
`stark report` turns into a leaderboard.

The config is a template: each campaign gets its problem, its seed (the given seed file, else the shipped seed
with tunables for a shipped problem, else the problem's own `Model` renamed `ModelNew`, written beside the runs),
its name (the problem id) and its share of the budget.
Campaigns run one after another on one Ray session, or `parallel` at once (threads of the sweep's process, each
campaign's evaluators pinned to CPU blocks of their own); each spreads its candidates over its evaluators.  The
sweep is resumable as a whole: run the same command again and finished campaigns are kept, interrupted ones
resumed, and ones not started yet started.  A campaign that cannot start (its reference fails here, say) is
recorded with its one-line reason and the sweep goes on.  `sweep.json` in the runs directory lists them all.
"""

from __future__ import annotations

import json
import os
import queue
import re
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from evolve.campaign_error import CampaignError
from evolve.records import RunStatus
from evolve.run_control import RunControl
from kernelbench.problem import ProblemError, ProblemRef, reference_as_candidate
from kernelbench.seeds import seed_for


@dataclass(frozen=True, slots=True)
class SweepBudget:
    per_problem: int
    """Attempts per campaign (the config's budget.iterations when not given)."""
    total: int = 0
    """Attempts for the whole sweep, shared evenly (0: no cap beyond per_problem)."""

    def for_each(self, problems: int) -> int:
        if self.total and problems:
            return max(1, min(self.per_problem, self.total // problems))
        return self.per_problem


@dataclass(frozen=True, slots=True)
class SweepOutcome:
    problem_id: str
    run_dir: str
    status: str
    """The campaign's own status (finished, stopped, failed, ...), or not_started (refused before it began)."""
    best: str = ""
    reason: str = ""
    seconds: float = 0.0


def select_problems(levels: list[int], problems: list[str], kernelbench_dir: str | None) -> list[ProblemRef]:
    """The problems named, else every problem of the levels (shipped, or the checkout's when one is given)."""
    from kernelbench.registry import builtin_problems, kernelbench_problems, resolve_problem

    if problems:
        return [resolve_problem(p, kernelbench_dir) for p in problems]
    if not levels:
        raise ProblemError("name the problems to sweep: --level N (repeatable) or --problems ID ...")
    pool = kernelbench_problems(kernelbench_dir) if kernelbench_dir else builtin_problems()
    chosen = [ref for ref in pool if ref.level in levels]
    if not chosen:
        raise ProblemError(f"no problems at level {', '.join(map(str, levels))}"
                           + (f" under {kernelbench_dir}" if kernelbench_dir else ""))
    return chosen


def slug(problem_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", problem_id).strip("-")


def run_sweep(config_path: str | Path, refs: list[ProblemRef], out: str | Path, budget: SweepBudget,
              seed_file: str | Path | None = None, kernelbench_dir: str | None = None,
              overrides: list[str] = (), console: Console | None = None,
              show_progress: bool = True, parallel: int = 1) -> list[SweepOutcome]:
    """`parallel` campaigns at once (threads of this process on one Ray session, each with its own evaluators
    pinned to their own CPU blocks); 1 runs them one after another with each campaign's progress bar."""
    from evolve.config import load_config

    if parallel < 1:
        raise CampaignError(f"--parallel must be at least 1, got {parallel}")
    console = console or Console()
    template = load_config(config_path, list(overrides))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    job = _SweepJob(Path(config_path), out, budget.for_each(len(refs)), seed_file, kernelbench_dir, list(overrides),
                    template.evaluator.backend)
    finished: dict[str, SweepOutcome] = {}

    def record(outcome: SweepOutcome) -> None:
        finished[outcome.problem_id] = outcome
        _write_manifest(out, config_path, budget, job.iterations, [finished[r.problem_id] for r in refs
                                                                   if r.problem_id in finished], refs, parallel)

    if parallel == 1:
        for index, ref in enumerate(refs, 1):
            console.rule(f"[{index}/{len(refs)}] {ref.problem_id}")
            outcome = job.run(ref, console, show_progress, RunControl())
            if outcome.status == "not_started":
                console.print(f"[red]not started[/red]: {outcome.reason}")
            record(outcome)
    else:
        _run_concurrently(job, refs, parallel, template.pipeline.evaluators * template.evaluator.threads,
                          template.pipeline.evaluators, console, record, show_progress)
    return [finished[r.problem_id] for r in refs]


@dataclass(frozen=True)
class _SweepJob:
    """One problem's campaign of the sweep: started, resumed or kept as it stands."""

    config_path: Path
    out: Path
    iterations: int
    seed_file: str | Path | None
    kernelbench_dir: str | None
    overrides: list[str]
    backend: str

    def run(self, ref: ProblemRef, console: Console, show_progress: bool, control: RunControl,
            chatty: bool = True) -> SweepOutcome:
        from evolve.launch import campaign_status, resume_campaign, start_campaign

        name = slug(ref.problem_id)
        run_dir = self.out / name
        started = time.monotonic()
        try:
            state = _state(run_dir)
            if state == "finished":
                summary = campaign_status(run_dir)
                if chatty:
                    console.print(f"already finished: {summary.best_text()}")
            elif state == "resumable":
                summary = resume_campaign(run_dir, console, show_progress, control=control)
            else:
                seed = Path(self.seed_file).resolve() if self.seed_file else (
                    seed_for(ref.problem_id, self.backend) or _reference_seed(ref, self.out))
                settings = [*self.overrides, f"campaign.name={name}", f"campaign.problem={ref.problem_id}",
                            f"campaign.seed_program={seed}", f"budget.iterations={self.iterations}"]
                if self.kernelbench_dir:
                    settings.append(f"campaign.kernelbench_dir={Path(self.kernelbench_dir).resolve()}")
                summary = start_campaign(self.config_path, settings, self.out, console, show_progress,
                                         control=control)
            return SweepOutcome(ref.problem_id, str(run_dir), summary.status, summary.best_text(),
                                seconds=round(time.monotonic() - started, 1))
        except (CampaignError, ProblemError) as exc:
            return SweepOutcome(ref.problem_id, str(run_dir), "not_started", reason=str(exc).splitlines()[0],
                                seconds=round(time.monotonic() - started, 1))


def _run_concurrently(job: _SweepJob, refs: list[ProblemRef], parallel: int, cpus_per_campaign: int,
                      evaluators: int, console: Console, record, show_progress: bool) -> None:
    """A thread per campaign in flight and one progress bar for the sweep (problems done; those running, for how
    long).  Ctrl-C or SIGTERM (main thread only) asks every running campaign to stop through its RunControl, waits
    for each to save, and goes up as an interrupt (run again to go on)."""
    from evolve.launch import ensure_ray, graceful_sigterm

    available = len(os.sched_getaffinity(0))
    if parallel * cpus_per_campaign >= available:
        console.print(f"[yellow]{parallel} campaigns at once x {cpus_per_campaign} evaluator CPU(s) each leave none of "
                      f"the {available} CPUs here to the judges, agents and Ray: expect noisier timings[/yellow]")
    ensure_ray()                       # once, here: campaign threads must find it started
    stop = threading.Event()
    blocks: queue.SimpleQueue[int] = queue.SimpleQueue()
    for slot in range(parallel):
        blocks.put(slot * evaluators)

    running: dict[str, float] = {}           # problem id -> when its campaign started (for the progress line)

    def one(ref: ProblemRef) -> SweepOutcome:
        block = blocks.get()
        running[ref.problem_id] = time.monotonic()
        try:
            return job.run(ref, console, False, RunControl(stop, block), chatty=False)
        finally:
            running.pop(ref.problem_id, None)
            blocks.put(block)

    columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with ThreadPoolExecutor(parallel, thread_name_prefix="sweep-campaign") as executor, \
            Progress(*columns, console=console, disable=not show_progress) as bar:
        futures = {executor.submit(one, ref): ref for ref in refs}
        task = bar.add_task("", total=len(refs))
        pending, done = set(futures), 0
        try:
            with graceful_sigterm():
                while pending:
                    finished, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                    for future in finished:
                        outcome = future.result()
                        done += 1
                        record(outcome)
                        text = outcome.reason if outcome.status == "not_started" else outcome.best
                        bar.console.print(f"[{done}/{len(refs)}] {outcome.problem_id}: {outcome.status} {text} "
                                          f"({outcome.seconds:.0f} s)")
                        bar.advance(task)
                    now, current = time.monotonic(), sorted(dict(running).items())
                    bar.update(task, description="running: " + ", ".join(
                        f"{problem} {now - since:.0f} s" for problem, since in current) if current else "")
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            wait(list(futures))
            for future in futures:
                if future.done() and not future.cancelled() and future.exception() is None:
                    record(future.result())
            raise


def _state(run_dir: Path) -> str:
    """new (nothing there, or a start that failed before its first attempt: started over), finished (kept),
    or resumable (interrupted, stopped, or failed mid-run: `stark resume` semantics)."""
    from evolve.launch import campaign_status, failed_at_start
    from evolve.run_dir import RunDir

    if not (run_dir / "config.json").exists() or failed_at_start(RunDir(run_dir)):
        return "new"
    try:
        return "finished" if campaign_status(run_dir).status == RunStatus.FINISHED else "resumable"
    except Exception:  # noqa: BLE001 - unreadable: resuming it says why in one line
        return "resumable"


def _reference_seed(ref: ProblemRef, out: Path) -> Path:
    """The problem's own Model as the first candidate (KernelBench's starting point): a correct 1.0x."""
    seeds = out / "seeds"
    seeds.mkdir(exist_ok=True)
    path = seeds / f"{slug(ref.problem_id)}.py"
    if not path.exists():
        path.write_text(reference_as_candidate(Path(ref.path).read_text()))
    return path.resolve()


def _write_manifest(out: Path, config_path: str | Path, budget: SweepBudget, iterations: int,
                    outcomes: list[SweepOutcome], refs: list[ProblemRef], parallel: int = 1) -> None:
    done = {o.problem_id for o in outcomes}
    manifest = {"config": str(Path(config_path).resolve()), "budget": asdict(budget),
                "iterations_per_problem": iterations, "campaigns_at_once": parallel,
                "problems": [r.problem_id for r in refs],
                "outcomes": [asdict(o) for o in outcomes], "pending": [r.problem_id for r in refs if r.problem_id not in done]}
    temporary = out / "sweep.json.tmp"
    temporary.write_text(json.dumps(manifest, indent=1))
    temporary.replace(out / "sweep.json")
