"""Per-candidate overhead of the judge (fresh runner processes per job, forked from a warm zygote) against a
fresh Python interpreter per candidate (the cost any design that starts clean without a zygote pays).

Run: .venv/bin/python benchmarks/eval_overhead.py [--candidates 10] [--baseline REV]
(--baseline: the judge's CPU per candidate of this checkout against a git revision's, alternating blocks.)
Both arms evaluate the same trivial candidate on level1/relu at its CPU shapes (the judge: one verification
round and the second-shape round
(no profile), so what is measured is the framework (the kernel itself takes well under a millisecond).
Besides wall time, the judge's CPU per candidate is counted over all its processes (the judge, its zygote, the
runners it forks and reaps, the kept reference runner), which a loaded machine does not inflate as it does wall
time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from rich.table import Table

from evaluators.config import EvalConfig, EvalRequest
from evaluators.judge import Judge
from kernelbench.registry import resolve_problem

CANDIDATE = Path(__file__).resolve().parent.parent / "kernelbench" / "candidates" / "relu_torch.py"
FRESH_INTERPRETER = """
import time, torch
from kernelbench.problem import load_module
problem = load_module(%r)
for name, value in problem.CPU_SHAPES.items():
    setattr(problem, name, value)
candidate = load_module(%r, prefix="stark_candidate")
x = problem.get_inputs()
torch.testing.assert_close(candidate.ModelNew()(*x), problem.Model()(*x))
"""


def process_cpu_s(pid: int, reaped: bool | None = False) -> float:
    """utime + stime of a process (reaped=None: only of the children it reaped; True: both), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    own = int(fields[11]) + int(fields[12])
    children = int(fields[13]) + int(fields[14])
    ticks = children if reaped is None else own + (children if reaped else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_part(judge: Judge) -> dict[str, float]:
    """CPU so far of this process (the judge), the zygote (its forks), the runners it reaped (candidates,
    builders) and the live ones (the kept reference)."""
    parts = {"judge": time.process_time(), "zygote": 0.0, "reaped runners": 0.0, "live runners": 0.0}
    if judge.pid is not None:
        parts["zygote"] = process_cpu_s(judge.pid)
        parts["reaped runners"] = process_cpu_s(judge.pid, reaped=None)
        parts["live runners"] = sum(process_cpu_s(pid) for pid in judge.zygote.processes())
    return parts


def judge_arm(count: int, request: EvalRequest,
              quiet: bool = False) -> tuple[list[float], list[float], dict[str, list[float]]]:
    judge = Judge(tempfile.mkdtemp(prefix="stark-bench-"))
    judge.evaluate(request)
    walls, cpus, parts = [], [], {}
    for _ in (range(count) if quiet else track(range(count), description="judge (fresh runners per job)")):
        start, before = time.perf_counter(), cpu_by_part(judge)
        result = judge.evaluate(request)
        walls.append(time.perf_counter() - start)
        after = cpu_by_part(judge)
        for name in after:
            parts.setdefault(name, []).append(after[name] - before[name])
        cpus.append(sum(after.values()) - sum(before.values()))
        assert result.passed, result.failure
    judge.close()
    return walls, cpus, parts


def fresh_interpreter_arm(count: int, request: EvalRequest) -> list[float]:
    code = FRESH_INTERPRETER % (request.problem.path, str(CANDIDATE))
    samples = []
    for _ in track(range(count), description="fresh interpreter per candidate"):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        samples.append(time.perf_counter() - start)
    return samples


def judge_arm_in(tree: Path, count: int) -> tuple[list[float], dict[str, list[float]]]:
    """The judge arm with the code of another checkout (this script, that tree's packages), in a process of its
    own: CPU per candidate and by part."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--judge-arm-json", str(count)], cwd=tree,
                          env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True, check=True)
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return data["cpus"], data["parts"]


def baseline_comparison(rev: str, count: int, blocks: int = 4) -> None:
    """This checkout against `rev` (a git worktree), judge arm only, in alternating blocks: the machine's drift
    falls on both alike."""
    repo = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(repo))
    from benchmarks.worktree import checkout_of, commit_of    # here: the other tree's arm runs this file without it

    results: dict[str, tuple[list[float], dict[str, list[float]]]] = {"now": ([], {}), rev: ([], {})}
    with checkout_of(rev) as tree:
        for block in track(range(blocks), description=f"judge CPU: this checkout vs {rev} ({commit_of(rev)[:9]})"):
            order = [("now", repo), (rev, tree)] if block % 2 == 0 else [(rev, tree), ("now", repo)]
            for name, root in order:
                cpus, parts = judge_arm_in(root, max(1, count // blocks))
                results[name][0].extend(cpus)
                for part, values in parts.items():
                    results[name][1].setdefault(part, []).extend(values)
    console = Console()
    for name, (cpus, parts) in results.items():
        console.print(f"{name}: judge CPU per candidate, mean {statistics.fmean(cpus) * 1e3:.1f} ms over {len(cpus)}; "
                      + ", ".join(f"{part} {statistics.fmean(v) * 1e3:.1f}" for part, v in parts.items()))
    console.print(f"this checkout / {rev}: {statistics.fmean(results['now'][0]) / statistics.fmean(results[rev][0]):.2f}"
                  f" (2 cores, load {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10)
    parser.add_argument("--baseline", help="also compare the judge's CPU with this git revision's, in the same run")
    parser.add_argument("--judge-arm-json", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    config = EvalConfig(trials=1, profile=False, threads=1)
    request = EvalRequest(resolve_problem("level1/relu"), CANDIDATE.read_text(), config)
    if args.judge_arm_json:
        _, cpus, parts = judge_arm(args.judge_arm_json, request, quiet=True)
        print(json.dumps({"cpus": cpus, "parts": parts}))
        return
    if args.baseline:
        baseline_comparison(args.baseline, args.candidates)
        return
    judged, judged_cpu, parts = judge_arm(args.candidates, request)
    fresh = fresh_interpreter_arm(args.candidates, request)
    table = Table(title=f"evaluator overhead per candidate ({args.candidates} candidates, level1/relu, one round)")
    for column in ("arm", "median ms", "min ms", "max ms"):
        table.add_column(column)
    for name, samples in (("judge: fresh runners from a zygote", judged), ("fresh interpreter (baseline)", fresh)):
        table.add_row(name, f"{statistics.median(samples) * 1e3:.1f}", f"{min(samples) * 1e3:.1f}",
                      f"{max(samples) * 1e3:.1f}")
    console = Console()
    console.print(table)
    console.print(f"judge CPU per candidate, all its processes: median {statistics.median(judged_cpu) * 1e3:.1f} ms "
                  f"(min {min(judged_cpu) * 1e3:.1f}, max {max(judged_cpu) * 1e3:.1f}); "
                  f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    console.print(f"judge CPU per candidate, mean {statistics.fmean(judged_cpu) * 1e3:.1f} ms (CPU is counted in "
                  f"{1000 / os.sysconf('SC_CLK_TCK'):.0f} ms ticks: the mean over many is the figure); by part: "
                  + ", ".join(f"{name} {statistics.fmean(values) * 1e3:.1f}" for name, values in parts.items()))
    console.print(f"fresh interpreter / judge median ratio: {statistics.median(fresh) / statistics.median(judged):.1f}x")


if __name__ == "__main__":
    main()
