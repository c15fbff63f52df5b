"""Every discovery problem's baselines on its training and held-out instances, and what an offline campaign reaches.

Run: .venv/bin/python benchmarks/discovery_baselines.py [--campaigns 40] [--plot out.png] [--kv-trace mooncake.jsonl]
Prints the primary metric of each baseline (train / holdout), the scratchpad ILP optimum on graphs small
enough to solve, and with --campaigns N the best program of an N-attempt offline campaign from each
runs/*_offline.toml, re-scored on the held-out instances, as a ratio over the simplest baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from kernelbench.discovery import baseline_metrics, load_discovery_problem  # noqa: E402
from kernelbench.problem import load_module  # noqa: E402

# problem → (primary metric, simplest baseline, offline campaign config)
PROBLEMS = {
    "kv_cache_eviction": ("saved_mean", "lru", "kv_eviction_offline.toml"),
    "scratchpad_planning": ("extra_mean", "topo_lru", "scratchpad_offline.toml"),
    "llm_serving_routing": ("goodput_mean", "round_robin", "routing_offline.toml"),
    "speed_prediction_scheduling": ("ratio_mean", "round_robin", "scheduling_offline.toml"),
}


def baseline_rows(name: str) -> list[tuple[str, float, float]]:
    problem = load_discovery_problem(name)
    metric = PROBLEMS[name][0]
    train, holdout = baseline_metrics(problem, "train"), baseline_metrics(problem, "holdout")
    return [(baseline, train[baseline][metric], holdout[baseline][metric]) for baseline in train]


def scratchpad_optimum(console: Console) -> None:
    sp = load_discovery_problem("scratchpad_planning")
    table = Table(title="scratchpad: non-compulsory KiB at the tightest capacity")
    for column in ("graph", "topo+LRU", "topo+Belady", "ILP optimum", "solve s"):
        table.add_column(column)
    for graph in (sp.resnet_blocks(1), sp.mobilenet_blocks(1), sp.transformer_layer(), sp.random_dag(4, 10),
                  sp.random_dag(5, 12), sp.random_dag(0, 16)):
        capacity = graph.capacity(0.0)
        start = time.perf_counter()
        optimum = sp.ilp_optimum(graph, capacity)
        table.add_row(graph.name, str(sp.simulate(graph, capacity, sp.topological(graph), sp.lru)),
                      str(sp.simulate(graph, capacity, sp.topological(graph), sp.belady)), str(optimum),
                      f"{time.perf_counter() - start:.1f}")
    console.print(table)


def campaign_best(name: str, iterations: int) -> tuple[float, float, float]:
    """(train, holdout) of the best program of an offline campaign, and its wall time."""
    from evolve.db.store import ProgramStore
    from evolve.launch import start_campaign

    metric, _, config = PROBLEMS[name]
    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        summary = start_campaign(ROOT / "runs" / config, runs_root=Path(root), show_progress=False,
                                 overrides=[f"budget.iterations={iterations}"])
        elapsed = time.perf_counter() - start
        store = ProgramStore(next(Path(root).rglob("*.db")), create=False)
        best = store.program(summary.best_program)
        store.close()
        path = Path(root) / "best.py"
        path.write_text(best.source)
        problem = load_discovery_problem(name)
        module = load_module(path, prefix="best_policy")
        return problem.evaluate(module, "train")[metric], problem.evaluate(module, "holdout")[metric], elapsed


def plot(results: dict[str, list[tuple[str, float, float]]], path: Path) -> None:
    """One panel per problem: held-out value of each policy, the evolved one in orange."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4))
    for ax, (name, rows) in zip(axes, results.items()):
        metric = PROBLEMS[name][0]
        direction = load_discovery_problem(name).METRICS[metric]
        labels = [policy.split(" (")[0] for policy, _, _ in rows]
        colors = ["#e07b00" if label == "evolved" else "#2563c9" for label in labels]
        ax.barh(labels, [holdout for _, _, holdout in rows], color=colors)
        ax.set_title(f"{name}\n{metric} ({'higher' if direction == 'max' else 'lower'} is better, holdout)", fontsize=9)
        ax.invert_yaxis()
        ax.tick_params(labelsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=0, help="attempts per offline campaign (0: skip)")
    parser.add_argument("--plot", type=Path, help="write a PNG of the held-out values per policy")
    parser.add_argument("--kv-trace", type=Path, help="a Mooncake-format JSONL trace to rank the KV baselines on")
    args = parser.parse_args()
    console = Console()
    results = {}
    for name, (metric, simplest, _) in PROBLEMS.items():
        direction = load_discovery_problem(name).METRICS[metric]
        table = Table(title=f"{name}: {metric} ({'higher' if direction == 'max' else 'lower'} is better)")
        for column in ("policy", "train", "holdout", f"holdout / {simplest}"):
            table.add_column(column)
        rows = baseline_rows(name)
        reference = dict((b, h) for b, _, h in rows)[simplest]
        if args.campaigns:
            train, holdout, elapsed = campaign_best(name, args.campaigns)
            rows.append((f"evolved ({args.campaigns} offline attempts, {elapsed:.0f} s)", train, holdout))
        for policy, train, holdout in rows:
            table.add_row(policy, f"{train:.4f}", f"{holdout:.4f}", f"{holdout / reference:.3f}")
        console.print(table)
        results[name] = rows
    if args.plot:
        plot(results, args.plot)
        console.print(f"plot: {args.plot}")
    scratchpad_optimum(console)
    if args.kv_trace:
        kv = load_discovery_problem("kv_cache_eviction")
        trace = kv.load_trace_jsonl(args.kv_trace)
        table = Table(title=f"KV eviction on {args.kv_trace.name} ({len(trace.requests)} requests): saved fraction")
        table.add_column("policy")
        for size in kv.CACHE_SIZES:
            table.add_column(f"{size} blocks")
        for policy, fn in kv.BASELINES.items():
            table.add_row(policy, *(f"{kv.simulate(trace, size, fn):.4f}" for size in kv.CACHE_SIZES))
        console.print(table)


if __name__ == "__main__":
    main()
