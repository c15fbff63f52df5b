"""The `stark` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="LLM agents and evolutionary search that optimize kernels; a sandboxed KernelBench evaluator.")


class UsageError(Exception):
    """Bad input from the user: shown as one line, exit status 2."""


def _fail(message: str, code: int = 2) -> None:
    """Exit 2 for bad input; 1 where our own machinery (the sandbox) could not run the evaluation."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command("eval")
def eval_command(
    problem: Annotated[str, typer.Argument(help="problem id (see `stark problems`) or path to a problem file")],
    candidate: Annotated[Path, typer.Argument(help="Python file defining class ModelNew")],
    backend: Annotated[str, typer.Option(help="cpu or cuda")] = "cpu",
    shapes: Annotated[Optional[str], typer.Option(help="shape set: cpu (the file's CPU_SHAPES, else scaled by the "
                                                       "documented policy), gpu (the file's own sizes) or heldout "
                                                       "(the file's HELD_OUT_SHAPES); default: gpu on the cuda "
                                                       "backend, else cpu")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result record as JSON")] = False,
    trials: Annotated[int, typer.Option(help="seeded random input sets to verify on")] = 3,
    repeats: Annotated[int, typer.Option(help="timed runs per module")] = 20,
    threads: Annotated[int, typer.Option(help="CPU threads for candidate and references (0: all cores but one, which the judge keeps)")] = 0,
    seed: Annotated[int, typer.Option(help="seed for weights and inputs")] = 0,
    compile_baseline: Annotated[bool, typer.Option(help="also time torch.compile of the reference")] = True,
    kernelbench_dir: Annotated[Optional[Path], typer.Option(help="external KernelBench checkout")] = None,
    build_cache: Annotated[Optional[Path], typer.Option(help="where compiled extensions are cached")] = None,
    harness: Annotated[str, typer.Option(help="stark, or kernelbench: KernelBench's own rules (train mode, casts, "
                                              "1e-4 against the candidate, 5 trials, mean of 100 calls)")] = "stark",
    precision: Annotated[str, typer.Option(help="kernelbench harness: fp32, fp16 or bf16")] = "fp32",
) -> None:
    """Compile, verify and profile CANDIDATE against PROBLEM in a sandboxed worker process."""
    from evaluators.config import BACKENDS, EvalConfig, EvalRequest
    from evaluators.judge import Judge
    from evaluators.zygote_client import EvaluatorError
    from kernelbench.problem import ProblemError, default_shape_set
    from kernelbench.registry import resolve_problem

    if backend not in BACKENDS:
        _fail(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if not candidate.is_file():
        _fail(f"candidate file not found: {candidate}")
    try:
        ref = resolve_problem(problem, kernelbench_dir, shapes or default_shape_set(backend))
    except ProblemError as exc:
        _fail(str(exc))
    if backend == "cuda" and not _cuda_available():
        _fail("backend cuda requested but no CUDA device is visible to torch")
    if threads < 0:
        _fail(f"--threads must be 0 (all cores but one) or positive, got {threads}")
    try:
        config = EvalConfig(backend=backend, trials=trials, repeats=repeats, seed=seed,
                            threads=threads or max(1, (os.cpu_count() or 2) - 1), compare_compile=compile_baseline,
                            harness=harness, precision=precision)
    except ValueError as exc:
        _fail(f"--{str(exc).split()[1] if str(exc).startswith('unknown') else str(exc).split()[0]}: {exc}")
    from evaluators.build_cache import default_root

    request = EvalRequest(ref, candidate.read_text(), config, str(build_cache or default_root()))
    worker = Judge()
    console = Console()
    try:
        with console.status(f"evaluating {candidate.name} on {ref.problem_id} ({backend})", spinner="dots"):
            result = worker.evaluate(request)
    except EvaluatorError as exc:
        _fail(str(exc).splitlines()[0], code=1)
    finally:
        worker.close()
    if as_json:
        print(result.to_json())
    else:
        from stark.render import render

        render(result, console)
    raise typer.Exit(0 if result.passed else 1 if result.failure.charged_to_candidate else 2)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@app.command("problems")
def problems_command(
    kernelbench_dir: Annotated[Optional[Path], typer.Option(help="also list an external KernelBench checkout")] = None,
    level: Annotated[Optional[int], typer.Option(help="only this level")] = None,
) -> None:
    """List the problems shipped with stark (and those of an external KernelBench checkout)."""
    from kernelbench.problem import ProblemError
    from kernelbench.registry import builtin_problems, kernelbench_problems

    refs = builtin_problems()
    if kernelbench_dir is not None:
        try:
            refs += kernelbench_problems(kernelbench_dir)
        except ProblemError as exc:
            _fail(str(exc))
    import torch

    from kernelbench.readiness import blockers

    table = Table(title=f"{len(refs)} problems")
    for column in ("id", "level", "source", "runs here"):
        table.add_column(column)
    unrunnable = 0
    for ref in refs:
        if level is None or ref.level == level:
            why = blockers(ref.path, torch.cuda.is_available())
            unrunnable += bool(why)
            table.add_row(ref.problem_id, str(ref.level), "KernelBench checkout" if ref.problem_id.startswith("kb/") else "stark",
                          "yes" if not why else f"[red]no[/]: {'; '.join(why)}")
    if level is None:
        from kernelbench.discovery import discovery_problems, load_discovery_problem

        for name in discovery_problems():
            problem = load_discovery_problem(name)
            functions = ", ".join(f"{f}()" for f in problem.ENTRY_POINTS)
            table.add_row(f"discovery/{name}", "-", f"stark discovery: evolve {functions} against a simulator")
    Console().print(table)
    if unrunnable:
        Console().print(f"{unrunnable} problem(s) cannot run on this machine as it is (see 'runs here'); "
                        "`pip install -e .\\[kernelbench]` adds the packages KernelBench's level 1-3 problems import")


@app.command("run")
def run_command(
    config: Annotated[Path, typer.Argument(help="campaign config (TOML)")],
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="override a config key: evolve.islands=4")] = None,
    runs_root: Annotated[Path, typer.Option(help="where run directories are created")] = Path("runs"),
    progress: Annotated[bool, typer.Option(help="show the progress bar")] = True,
    address: Annotated[Optional[str], typer.Option(help="join an existing Ray cluster (`ray start --head`)")] = None,
) -> None:
    """Start an evolutionary campaign; outputs go to RUNS_ROOT/<campaign name>/."""
    from evolve.launch import ensure_ray, start_campaign

    if address:
        ensure_ray(address)
    _drive_campaign(lambda console: start_campaign(config, set_ or [], runs_root, console, progress))


@app.command("sweep")
def sweep_command(
    config: Annotated[Path, typer.Argument(help="campaign config (TOML) used as the template for every problem")],
    level: Annotated[Optional[list[int]], typer.Option(help="sweep every problem of this level (repeatable)")] = None,
    problems: Annotated[Optional[list[str]], typer.Option(help="sweep these problem ids instead (repeatable)")] = None,
    kernelbench_dir: Annotated[Optional[Path], typer.Option(help="an external KernelBench checkout")] = None,
    out: Annotated[Optional[Path], typer.Option(help="runs directory (default: runs/<config name>-sweep)")] = None,
    iterations: Annotated[int, typer.Option(help="attempts per problem (0: the config's budget.iterations)")] = 0,
    total_iterations: Annotated[int, typer.Option(help="attempts for the whole sweep, shared evenly (0: no cap)")] = 0,
    seed: Annotated[Optional[Path], typer.Option(help="seed program for every problem (default: each problem's "
                                                      "own Model as ModelNew)")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="override a config key for every campaign")] = None,
    progress: Annotated[bool, typer.Option(help="show each campaign's progress bar")] = True,
    parallel: Annotated[int, typer.Option(help="campaigns at once, each with the config's evaluators on CPUs "
                                               "of its own (1: one after another, with progress bars)")] = 1,
    address: Annotated[Optional[str], typer.Option(help="join an existing Ray cluster (`ray start --head`)")] = None,
) -> None:
    """One campaign per problem of a level (or a list), resumable as a whole: run it again to go on.
    `stark report OUT` turns the runs directory into a leaderboard."""
    from evolve.config import load_config
    from evolve.launch import ensure_ray
    from evolve.sweep import SweepBudget, run_sweep, select_problems
    from evolve.typed_config import ConfigError
    from kernelbench.problem import ProblemError

    if iterations < 0 or total_iterations < 0:
        _fail("--iterations and --total-iterations must be 0 or positive")
    if parallel < 1:
        _fail(f"--parallel must be at least 1, got {parallel}")
    if seed is not None and not seed.is_file():
        _fail(f"seed program not found: {seed}")
    try:
        template = load_config(config, list(set_ or []))
        refs = select_problems(level or [], problems or [], str(kernelbench_dir) if kernelbench_dir else None)
    except (ConfigError, ProblemError) as exc:
        _fail(_user_error(exc))
    out = out or Path("runs") / f"{template.campaign.name}-sweep"
    budget = SweepBudget(iterations or template.budget.iterations, total_iterations)
    if address:
        ensure_ray(address)
    console = Console()
    try:
        outcomes = run_sweep(config, refs, out, budget, seed, str(kernelbench_dir) if kernelbench_dir else None,
                             list(set_ or []), console, progress, parallel)
    except KeyboardInterrupt:
        Console(stderr=True).print(f"interrupted; run the same command again to go on ({out}/sweep.json lists where "
                                   "each problem stands)")
        raise typer.Exit(130)
    table = Table("problem", "status", "best", "seconds", title=f"sweep: {out}")
    for outcome in outcomes:
        table.add_row(outcome.problem_id, outcome.status, outcome.best or outcome.reason, f"{outcome.seconds:.0f}")
    console.print(table)
    console.print(f"`stark report {out}` makes the leaderboard")


@app.command("resume")
def resume_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory made by `stark run`")],
    more: Annotated[int, typer.Option(help="raise the iteration budget by this many attempts")] = 0,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="change a saved setting first: agents.coder.llm.base_url=http://127.0.0.1:8080/v1")] = None,
    progress: Annotated[bool, typer.Option(help="show the progress bar")] = True,
    address: Annotated[Optional[str], typer.Option(help="join an existing Ray cluster (`ray start --head`)")] = None,
) -> None:
    """Continue a campaign from its database (after Ctrl-C, a crash, or to spend more budget)."""
    from evolve.launch import ensure_ray, resume_campaign

    if address:
        ensure_ray(address)
    _drive_campaign(lambda console: resume_campaign(run_dir, console, progress, more, set_ or []))


@app.command("status")
def status_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory made by `stark run`")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Summarize a campaign: attempts by outcome, best program, LLM spend, island occupancy."""
    from evolve.launch import campaign_status

    try:
        summary = campaign_status(run_dir)
    except Exception as exc:  # noqa: BLE001 - shown as one line; see _user_error
        _fail(_user_error(exc))
    _show_summary(summary, as_json)


@app.command("show")
def show_command(
    run_dir: Annotated[Path, typer.Argument(help="a run directory made by `stark run`")],
    program_id: Annotated[int, typer.Argument(help="a program id (see `stark status` or the viewer)")],
    prompts: Annotated[bool, typer.Option(help="print each LLM call's full prompt, not only the reply")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One program: lineage, diff, evaluations, and each LLM call of its attempt with prompt and reply."""
    import json

    from evolve.program_report import program_report
    from stark.show import render_program

    try:
        report = program_report(run_dir, program_id)
    except Exception as exc:  # noqa: BLE001 - shown as one line; see _user_error
        _fail(_user_error(exc))
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    render_program(report, Console(), prompts)


@app.command("serve")
def serve_command(
    runs_root: Annotated[Path, typer.Argument(help="directory holding run directories")] = Path("runs"),
    host: Annotated[str, typer.Option(help="interface to bind; loopback unless you mean to share")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8321,
) -> None:
    """Serve the read-only web viewer of the campaigns under RUNS_ROOT; it updates live while they run."""
    import uvicorn

    from evolve.viewer.app import create_app

    if not runs_root.is_dir():
        _fail(f"runs directory not found: {runs_root}")
    if not 1 <= port <= 65535:
        _fail(f"--port must be between 1 and 65535, got {port}")
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        _fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")
    if host not in ("127.0.0.1", "localhost", "::1"):
        Console(stderr=True).print(f"[yellow]warning:[/] serving on {host}: anyone who can reach it can read your runs")
    Console().print(f"stark viewer on http://{host}:{port}/ (read-only; Ctrl-C stops)")
    uvicorn.run(create_app(runs_root), host=host, port=port, log_level="warning")


@app.command("report")
def report_command(
    runs: Annotated[list[Path], typer.Argument(help="runs directories; each becomes one column")],
    format_: Annotated[str, typer.Option("--format", help="md, html or json")] = "md",
    out: Annotated[Path, typer.Option(help="directory for the report and its plots")] = Path("report"),
) -> None:
    """KernelBench leaderboard over campaigns: correctness, fast_p, geomean speedup, per-problem table, plots;
    discovery campaigns in a table of their own."""
    import dataclasses
    import json

    from evolve.db.engine import StoreError
    from evolve.leaderboard_runs import read_runs
    from kernelbench import report_plots
    from kernelbench.leaderboard import build_leaderboard
    from kernelbench.report_meta import report_meta
    from kernelbench.report_render import render_html, render_markdown

    if format_ not in ("md", "html", "json"):
        _fail(f"unknown format {format_!r}; choose md, html or json")
    try:
        read = [read_runs(path) for path in runs]
    except (FileNotFoundError, StoreError) as exc:
        _fail(_user_error(exc))
    columns = [column for column, _ in read if column is not None]
    discovery = [d for _, found in read for d in found]
    if not columns and not discovery:
        _fail(f"no campaigns under {', '.join(str(p) for p in runs)}")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        columns = [dataclasses.replace(c, name=f"{c.name}-{i + 1}") for i, c in enumerate(columns)]
    board = build_leaderboard(columns, discovery, report_meta(["stark", "report", *sys.argv[2:]]))
    out.mkdir(parents=True, exist_ok=True)
    figures = (lambda: report_plots.all_figures(columns)) if columns else dict
    if format_ == "json":
        target = out / "leaderboard.json"
        target.write_text(json.dumps(board, indent=2))
    elif format_ == "md":
        plots = report_plots.save(figures(), out)
        target = out / "leaderboard.md"
        target.write_text(render_markdown(board, plots))
    else:
        report_plots.save(figures(), out)
        target = out / "leaderboard.html"
        target.write_text(render_html(board, report_plots.inline_svgs(figures())))
    Console().print(f"wrote {target}")


def _user_error(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _drive_campaign(start) -> None:
    from evolve.campaign_error import CampaignError
    from evolve.db.engine import StoreError
    from evolve.launch import Terminated
    from evolve.run_lock import RunLocked
    from evolve.typed_config import ConfigError
    from kernelbench.problem import ProblemError

    console = Console()
    try:
        summary = start(console)
    except (CampaignError, ConfigError, StoreError, ProblemError, RunLocked, FileNotFoundError) as exc:
        _fail(_user_error(exc))
    except Terminated:
        Console(stderr=True).print("stopped (SIGTERM); everything evaluated is saved. `stark resume RUN_DIR` continues.")
        raise typer.Exit(143)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; everything evaluated is saved. `stark resume RUN_DIR` continues.")
        raise typer.Exit(130)
    _show_summary(summary, False)


def _show_summary(summary, as_json: bool) -> None:
    import dataclasses
    import json

    if as_json:
        print(json.dumps(dataclasses.asdict(summary), indent=2, default=str))
        return
    table = Table(title=f"campaign {summary.name} ({summary.status})", show_header=False)
    label = summary.score_label
    best = ("none correct" if summary.best_program is None
            else f"#{summary.best_program}: {summary.best_text()} ({label.better()}"
                 f"{'; re-measured' if summary.best_remeasured else ''})")
    rows = [("problem", summary.problem), ("attempts", str(summary.attempts)),
            ("programs", ", ".join(f"{k}: {v}" for k, v in sorted(summary.counts.items()))),
            ("best", best), ("elapsed", f"{summary.elapsed_s:.0f} s"),
            *([("driven by", summary.holder)] if summary.holder else []),
            ("LLM", f"{summary.llm['calls']} calls, {summary.llm['prompt_tokens'] + summary.llm['completion_tokens']} "
                    f"tokens, ${summary.llm['cost_usd']:.4f}"),
            *[(f"  {role}", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
              for role, outcomes in sorted(summary.llm_outcomes.items())],
            ("islands", ", ".join(f"{k}: {v}" for k, v in summary.islands.items()))]
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)


if __name__ == "__main__":
    app()
