"""Showing an EvalResult to a person: a rich verdict table."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from evaluators.records import EvalResult, TimingStats
from evaluators.roofline import RooflineReport


def verdict_line(result: EvalResult) -> Text:
    if result.passed:
        return Text(f"PASS  {result.problem} on {result.backend} ({result.shape_set} shapes)", style="bold green")
    failure = result.failure
    whose = "" if failure.charged_to_candidate else " (the problem's reference failed, not the candidate)"
    return Text(f"FAIL  {failure.stage.value}/{failure.kind.value}{whose}: {_message(failure.message)}",
                style="bold red")


def _message(message: str, most: int = 8) -> str:
    """The whole message, up to `most` lines: a cause on the last line of a long error must not be cut."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    if len(lines) > most:
        lines = [*lines[:2], f"... ({len(lines) - most + 2} lines) ...", *lines[-(most - 3):]]
    return "\n".join(lines)


def stage_table(result: EvalResult) -> Table:
    table = Table(title="Stages", title_justify="left")
    table.add_column("stage")
    table.add_column("result")
    table.add_column("seconds", justify="right")
    for report in result.stages:
        table.add_row(report.stage.value, "[green]ok[/]" if report.ok else "[red]failed[/]", f"{report.seconds:.3f}")
    return table


def timing_table(result: EvalResult) -> Table | None:
    profile = result.profile
    if profile is None:
        return None
    table = Table(title=f"Timing by the judge ({profile.threads} threads, {profile.input_sets} fresh input sets, "
                        f"every output checked; {profile.null_us:.0f} µs round trip subtracted"
                        + (f"; clock: {profile.clock}" if result.backend == "cuda" and profile.clock else "") + ")",
                  title_justify="left")
    for column in ("module", "median µs", "mean µs", "IQR µs", "min µs", "runs", "page faults/call",
                   f"candidate speedup ({profile.statistic}s)"):
        table.add_column(column, justify="left" if column == "module" else "right")
    rows: list[tuple[str, TimingStats | None, float | None, float | None]] = [
        ("candidate", profile.candidate, None, profile.candidate_faults_per_call),
        ("reference (eager)", profile.reference, profile.speedup_vs_eager, profile.reference_faults_per_call),
        ("reference (torch.compile)", profile.compiled, profile.speedup_vs_compile, None),
    ]
    for name, stats, speedup, faults in rows:
        if stats is None:
            table.add_row(name, "-", "-", "-", "-", "-", "-", profile.compiled_note)
            continue
        table.add_row(name, f"{stats.median_us:.1f}", f"{stats.mean_us:.1f}", f"{stats.iqr_us:.1f}", f"{stats.min_us:.1f}",
                      str(stats.runs), "-" if faults is None else f"{faults:.0f}",
                      "" if speedup is None else f"{speedup:.2f}x")
    return table


def interval_text(result: EvalResult) -> str:
    interval = result.profile.speedup_ci if result.profile is not None else None
    if interval is None:
        return ""
    low, high = interval
    verdict = ("includes 1.0x: not distinguishable from the reference" if low <= 1.0 <= high
               else ("faster than the reference" if low > 1.0 else "slower than the reference"))
    return f"speedup over eager {result.speedup_vs_eager:.3f}x, 95% CI {low:.3f}-{high:.3f} ({verdict})"


def render(result: EvalResult, console: Console) -> None:
    parts = [verdict_line(result), stage_table(result)]
    if result.verify is not None:
        v = result.verify
        second = f"; second shape set: {v.second_shape_set}" if v.second_shape_set else ""
        parts.append(Text(f"verified on {len(v.trial_seeds)} seeded trials {list(v.trial_seeds)}; "
                          f"max abs error {v.max_abs_error:.3g} (atol {v.atol:g}, rtol {v.rtol:g}){second}"))
    timing = timing_table(result)
    if timing is not None:
        parts.append(timing)
        parts.append(Text(interval_text(result)))
        if result.profile.roofline:
            roofline = RooflineReport.from_dict(result.profile.roofline)
            parts.append(Text(roofline.describe(), style="bold red" if roofline.suspect else ""))
    if result.failure is not None and result.failure.output_tail.strip():
        parts.append(Text("candidate output (tail):", style="bold"))
        parts.append(Text(result.failure.output_tail.strip()[-1500:], style="dim"))
    if result.shapes:
        parts.append(Text(f"sizes: {result.shapes}", style="dim"))
    if result.environment:
        env = result.environment
        parts.append(Text(f"torch {env.get('torch', '?')} · {env.get('gpu') or env.get('cpu', '?')} · "
                          f"{env.get('sandbox', '')}", style="dim"))
    console.print(Group(*parts))
