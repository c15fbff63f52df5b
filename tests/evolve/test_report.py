"""`stark report` on synthetic run databases whose numbers were chosen so every metric is checkable by hand."""

import json
import subprocess
import sys

import pytest

from evolve.config import CampaignConfig, CampaignSection
from evolve.db.store import ProgramStore
from evolve.run_dir import RunDir
from evolve.typed_config import to_data
from stark.llm.records import LLMCallRecord
from tests.conftest import REPO

# problem → (list of (attempt, correct, speedup vs eager, speedup vs compile)), tokens
RUN_A = {"level1/relu": ([(0, False, None, None), (1, True, 2.5, 1.2)], 1000),
         "level1/softmax": ([(0, True, 1.2, 0.9)], 0),
         "level2/attention": ([(0, False, None, None), (1, False, None, None)], 500)}
RUN_B = {"level1/relu": ([(0, True, 0.8, 0.5)], 0),
         "level1/softmax": ([(0, True, 1.0, 0.7), (3, True, 3.0, 2.0)], 0),
         "level2/attention": ([(0, True, 1.6, 1.1)], 0)}


def make_runs(root, runs):
    for problem, (programs, tokens) in runs.items():
        name = problem.replace("/", "-")
        run_dir = RunDir(root / name)
        config = CampaignConfig(campaign=CampaignSection(name=name, problem=problem, seed_program="seed.py"))
        run_dir.write_config(to_data(config))
        store = ProgramStore(run_dir.database)
        campaign = store.create_campaign(name, problem, to_data(config))
        for attempt, correct, eager, compiled in programs:
            pid = store.add_program(campaign, attempt=attempt, source=f"# {attempt}", parent_id=None, island=0,
                                    generation=0, origin="seed" if attempt == 0 else "mutation")
            failure = None if correct else {"stage": "verify", "kind": "mismatch", "message": "wrong"}
            profile = {"speedup_ci": [eager * 0.75, eager * 1.25], "roofline": {"fraction": eager / 20}} \
                if correct and eager else None
            store.record_evaluation(pid, {"failure": failure, "speedup_vs_eager": eager, "speedup_vs_compile": compiled,
                                          "stages": [], "environment": {"torch": "2.13.0", "cpu": "Test CPU"},
                                          "profile": profile},
                                    objectives=[eager or 0.0], features={})
        if tokens:
            store.add_llm_calls(campaign, 1, [LLMCallRecord("coder", "m", "ok", tokens, 0, 0.1, tokens / 1e6, "h")])
        store.save_state(campaign, {"next_attempt": max(a for a, *_ in programs) + 1}, "finished")
        store.close()
    return root


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    run_a, run_b = make_runs(base / "run-a", RUN_A), make_runs(base / "run-b", RUN_B)
    out = base / "out"
    for fmt in ("json", "md", "html"):
        done = subprocess.run([sys.executable, "-m", "stark.cli", "report", str(run_a), str(run_b), "--format", fmt,
                               "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    return out


def test_fast_p_and_geomean_by_hand(report):
    board = json.loads((report / "leaderboard.json").read_text())
    a, b = board["overall"]["run-a"], board["overall"]["run-b"]
    assert a["correctness_rate"] == pytest.approx(2 / 3) and b["correctness_rate"] == 1.0
    # every eager speedup was measured with the interval [0.75x, 1.25x] of itself: a win needs all of it above p
    assert a["fast_p"]["eager"] == pytest.approx({"0.0": 2 / 3, "0.5": 2 / 3, "0.8": 2 / 3, "1.0": 1 / 3,
                                                  "1.5": 1 / 3, "2.0": 0.0})
    assert a["fast_p"]["compile"] == pytest.approx({"0.0": 2 / 3, "0.5": 2 / 3, "0.8": 2 / 3, "1.0": 1 / 3,
                                                    "1.5": 0.0, "2.0": 0.0})
    assert b["fast_p"]["eager"] == pytest.approx({"0.0": 1.0, "0.5": 1.0, "0.8": 2 / 3, "1.0": 2 / 3,
                                                  "1.5": 1 / 3, "2.0": 1 / 3})
    assert b["fast_p"]["compile"] == pytest.approx({"0.0": 1.0, "0.5": 2 / 3, "0.8": 2 / 3, "1.0": 2 / 3,
                                                    "1.5": 1 / 3, "2.0": 0.0})
    assert a["geomean_speedup"]["eager"] == pytest.approx((2.5 * 1.2) ** 0.5)
    assert b["geomean_speedup"]["eager"] == pytest.approx((0.8 * 3.0 * 1.6) ** (1 / 3))
    assert board["levels"]["1"]["run-a"]["fast_p"]["eager"]["1.5"] == 0.5
    assert board["levels"]["2"]["run-a"]["correctness_rate"] == 0.0 and a["tokens"] == 1500


def test_per_problem_rows(report):
    board = json.loads((report / "leaderboard.json").read_text())
    relu = next(p for p in board["problems"] if p["problem_id"] == "level1/relu")
    assert relu["runs"]["run-a"]["speedup_vs_eager"] == 2.5 and relu["runs"]["run-a"]["attempts_to_first_correct"] == 1
    softmax_b = next(p for p in board["problems"] if p["problem_id"] == "level1/softmax")["runs"]["run-b"]
    assert softmax_b["speedup_vs_eager"] == 3.0 and softmax_b["attempts_to_first_correct"] == 0
    assert board["environment"]["run-a"]["cpu"] == "Test CPU"


def test_markdown_html_and_plots(report):
    markdown = (report / "leaderboard.md").read_text()
    assert "| run-a | overall | 3 | 66.7% | 33.3% | 33.3% | 0.0% | 1.73x |" in markdown     # one row per run and scope
    assert "| run-b | level 2 | 1 | 100.0% | 100.0% |" in markdown
    assert "![fast-p-eager](fast-p-eager.png)" in markdown and "Test CPU" in markdown
    assert "| #2 | 2.50x | 1.88–3.12 | 1.20x | 12.5% |" in markdown, "one value per cell: interval, compile, roofline"
    assert "| 1.20x | 0.90–1.50 (~1.0) |" in markdown, "an interval that includes 1.0 is flagged"
    assert "Generated 20" in markdown and "by stark " in markdown and "`stark report " in markdown
    assert "run-a: campaigns 3; budget 20 attempts; agents planner offline" in markdown
    page = (report / "leaderboard.html").read_text()
    assert page.count("<svg") == 3 and "geomean vs compile" in page and "table class=sortable" in page
    for name in ("speedup-distribution", "fast-p-eager", "fast-p-compile"):
        assert (report / f"{name}.png").stat().st_size > 5000 and (report / f"{name}.svg").exists()


def test_bad_input_is_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "stark.cli", "report", str(tmp_path / "none")], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.strip() == f"error: runs directory not found: {tmp_path / 'none'}"


def test_discovery_campaigns_stay_off_the_kernel_leaderboard(tmp_path):
    from evolve.leaderboard_runs import run_column

    runs = make_runs(tmp_path / "mixed", {"level1/relu": ([(0, True, 2.0, 1.0)], 0),
                                          "discovery/kv_cache_eviction": ([(0, True, 0.6, None)], 0)})
    assert [o.problem_id for o in run_column(runs).outcomes] == ["level1/relu"]
    only = make_runs(tmp_path / "only", {"discovery/kv_cache_eviction": ([(0, True, 0.6, None)], 0)})
    with pytest.raises(FileNotFoundError, match="no kernel campaigns"):
        run_column(only)


def test_a_kernelbench_harness_run_counts_every_problem_of_its_levels(tmp_path):
    from evaluators.config import EvalConfig
    from evolve.leaderboard_runs import run_column
    from kernelbench.registry import builtin_problems

    root = tmp_path / "kb-run"
    make_runs(root, {"level1/relu": ([(0, True, 2.5, 1.2)], 0)})
    run_dir = RunDir(root / "level1-relu")                     # judged by KernelBench's rules
    config = CampaignConfig(campaign=CampaignSection(name="level1-relu", problem="level1/relu", seed_program="seed.py"),
                            evaluator=EvalConfig(harness="kernelbench"))
    run_dir.write_config(to_data(config))
    column = run_column(root)
    level1 = [ref.problem_id for ref in builtin_problems() if ref.level == 1]
    assert column.harness == "kernelbench" and sorted(o.problem_id for o in column.outcomes) == sorted(level1)
    assert sum(o.correct for o in column.outcomes) == 1                  # the others: no campaign, counted failed
    stark_column = run_column(make_runs(tmp_path / "stark-run", {"level1/relu": ([(0, True, 2.5, 1.2)], 0)}))
    assert stark_column.harness == "stark" and len(stark_column.outcomes) == 1


def test_a_baseline_no_campaign_timed_is_unknown_not_zero(tmp_path):
    from evolve.leaderboard_runs import run_column
    from kernelbench.leaderboard import build_leaderboard
    from kernelbench.report_render import summary_rows

    column = run_column(make_runs(tmp_path / "no-compile", {"level1/relu": ([(0, True, 1.5, None)], 0)}))
    board = build_leaderboard([column])
    assert board["overall"]["no-compile"]["fast_p"]["compile"]["1.0"] is None
    assert board["overall"]["no-compile"]["fast_p"]["eager"]["0.0"] == 1.0
    header, rows = summary_rows(board)
    overall = dict(zip(header, rows[0]))
    assert overall["fast_1 vs compile"] == overall["geomean vs compile"] == "not measured"
    assert overall["fast_1.5 vs eager"] == "0.0%" and overall["correct"] == "100.0%"


def test_a_directory_of_discovery_campaigns_says_why_it_has_no_leaderboard(tmp_path):
    from evolve.leaderboard_runs import run_column

    make_runs(tmp_path / "discovery", {"discovery/scratchpad_planning": ([(0, True, 1.0, None)], 0)})
    with pytest.raises(FileNotFoundError, match="1 discovery campaign.*not kernel speedups"):
        run_column(tmp_path / "discovery")


def test_discovery_campaigns_get_a_table_in_their_own_units(tmp_path):
    from kernelbench.discovery import load_discovery_problem

    root = tmp_path / "discovery"
    make_runs(root, {"discovery/scratchpad_planning": ([(0, True, 1.0, None), (1, True, 1.0, None)], 0)})
    run_dir = RunDir(root / "discovery-scratchpad_planning")
    config = run_dir.read_config()
    config["evolve"]["objectives"] = [{"name": "extra_mean", "direction": "min"}]   # as runs/scratchpad_offline.toml
    run_dir.write_config(config)
    store = ProgramStore(run_dir.database)
    campaign = store.campaign_id("discovery-scratchpad_planning")
    seed, evolved = (p.id for p in store.programs(campaign))
    for program, train, holdout in ((seed, 9.0, 9.5), (evolved, 2.0, 2.5)):   # extra_mean: lower is better
        store.record_evaluation(program, {"metrics": {"extra_mean": train}, "holdout_metrics": {"extra_mean": holdout},
                                          "stages": []}, objectives=[-train], features={}, score=-train)
    store.close()
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "stark.cli", "report", str(root), "--format", "json", "--out",
                           str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    board = json.loads((out / "leaderboard.json").read_text())
    [row] = board["discovery"]
    problem = load_discovery_problem("scratchpad_planning")
    baselines = {n: problem.evaluate_baseline(n, "train")["extra_mean"] for n in problem.BASELINES}
    best_baseline = min(baselines, key=baselines.get)
    assert (row["metric"], row["direction"], row["seed"], row["evolved"], row["evolved_holdout"]) == (
        "extra_mean", "min", 9.0, 2.0, 2.5)
    assert row["best_baseline"] == best_baseline and row["baseline"] == baselines[best_baseline]
    assert row["baseline_holdout"] == problem.evaluate_baseline(best_baseline, "holdout")["extra_mean"]
    assert board["runs"] == [] and board["meta"]["commit"] != ""
    done = subprocess.run([sys.executable, "-m", "stark.cli", "report", str(root), "--format", "md", "--out",
                           str(out)], cwd=REPO, capture_output=True, text=True, timeout=120)
    markdown = (out / "leaderboard.md").read_text()
    assert "## Discovery problems" in markdown and "extra_mean (↓ lower is better) | 9 |" in markdown
    assert "## Summary" not in markdown
