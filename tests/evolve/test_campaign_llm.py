"""A whole campaign driven by the scripted OpenAI-compatible test double, through real Ray actors and evaluators.

The script walks through what real models do: a client error, a good rewrite, chatter without an edit, an
edit that does not apply, a kernel that is wrong (then repaired by the reviewer), rate limits and server
errors before an edit that only changes a comment (a duplicate of the seed: never evaluated, sent back for a new
plan), a reply slower than the timeout followed by a cheating rewrite, and more comment-only edits.
"""

import pytest

from evolve.launch import start_campaign
from evolve.records import Status
from evolve.db.store import ProgramStore
from tests.conftest import CANDIDATES, make_request
from tests.scripted_llm_server import ScriptedOpenAIServer, Step

SEED = (CANDIDATES / "relu_evolvable_seed.py").read_text()


def rewrite(body: str) -> Step:
    return Step(f"Here is the new program:\n```python\n{SEED.replace('return torch.relu(x) * 1.0', body)}```")


def search_replace(search: str, replace: str) -> Step:
    return Step(f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE")


SCRIPT = {
    "planner-model": [Step("invalid request", 400)],
    "coder-model": [
        rewrite("return torch.clamp_min(x, 0.0)"),
        Step("Sure! I made it much faster."),
        search_replace("    return torch.sigmoid(x)", "    return x"),
        rewrite("return x * 2"),
        Step("slow down", 429, headers={"retry-after": "0"}), Step("oops", 500),
        search_replace("    # fast path", "    # fast path, tuned"),
        Step("too late", delay_s=2.5),
        rewrite("return Model()(x)"),
    ],
    "reviewer-model": [search_replace("    return x * 2", "    return torch.relu(x)")],
}
FALLBACK = {
    "planner-model": Step("STRATEGY: drop the multiply\nINSTRUCTIONS:\n- [L6-L7] return relu directly"),
    "coder-model": search_replace("    # fast path", "    # fast path, again"),
}


def role(model: str, base_url: str) -> str:
    return (f'kind = "llm"\n[agents.{model}.llm]\nmodel = "{model}-model"\nbase_url = "{base_url}"\n'
            f'api_key_env = ""\nformat_retries = 0\ntimeout_s = 1.0\nmax_retries = 2\nbackoff_s = 0.01\nusd_per_million_input = 1.0\n'
            f'usd_per_million_output = 4.0\n')


def config_text(base_url: str, seed_path) -> str:
    text = f"""
[campaign]
name = "scripted"
problem = "level1/relu"
seed_program = "{seed_path}"
[budget]
iterations = 8
[pipeline]
proposals_in_flight = 1
evaluators = 2
repair_attempts = 1
[evolve]
islands = 1
sampler = "uniform"
[evaluator]
trials = 2
repeats = 3
warmup = 1
input_sets = 2
threads = 1
compare_compile = false
"""
    for name in ("planner", "coder", "reviewer"):
        text += f"[agents.{name}]\n" + role(name, base_url)
    return text


@pytest.fixture(scope="module")
def finished_campaign(ray_session, tmp_path_factory):
    root = tmp_path_factory.mktemp("scripted-run")
    with ScriptedOpenAIServer(SCRIPT, FALLBACK) as server:
        config = root / "campaign.toml"
        config.write_text(config_text(server.base_url, CANDIDATES / "relu_evolvable_seed.py"))
        summary = start_campaign(config, runs_root=root / "runs", show_progress=False)
        leftovers = {model: server.remaining(model) for model in SCRIPT}
    store = ProgramStore(root / "runs" / "scripted" / "campaign.db", create=False)
    yield summary, store, leftovers, root / "runs" / "scripted"
    store.close()


def test_campaign_finishes_and_uses_the_whole_script(finished_campaign):
    summary, _, leftovers, _ = finished_campaign
    assert summary.status == "finished" and summary.attempts == 8
    assert leftovers == {"planner-model": 0, "coder-model": 0, "reviewer-model": 0}


def test_every_attempt_is_recorded_with_its_outcome(finished_campaign):
    summary, store, _, _ = finished_campaign
    campaign = store.campaign_id("scripted")
    programs = store.programs(campaign)
    assert summary.counts == {Status.EVALUATED: 3, Status.FAILED: 1, Status.INVALID: 3, Status.REJECTED: 1,
                              Status.DUPLICATE: 5}
    assert sorted({p.attempt for p in programs}) == list(range(9))
    by_attempt: dict[int, list] = {}
    for p in programs:
        if p.origin != "repair":
            by_attempt.setdefault(p.attempt, []).append(p)
    assert "HTTP 400" in by_attempt[1][0].note
    assert "no edit found" in by_attempt[3][0].note and "does not match" in by_attempt[4][0].note
    assert by_attempt[5][0].status == Status.FAILED
    (repair,) = [p for p in programs if p.origin == "repair"]
    assert repair.parent_id == by_attempt[5][0].id and repair.status == Status.EVALUATED and repair.attempt == 5


def test_comment_only_edits_are_duplicates_never_evaluated_and_re_planned_once(finished_campaign):
    _, store, _, _ = finished_campaign
    campaign = store.campaign_id("scripted")
    programs = store.programs(campaign)
    seed = store.seed_program(campaign)
    attempt6 = [p for p in programs if p.attempt == 6]
    assert [p.status for p in attempt6] == [Status.DUPLICATE, Status.REJECTED]     # re-planned, then a new edit
    assert attempt6[0].duplicate_of == seed.id and "duplicate of #" in attempt6[0].note
    assert "reference class Model" in attempt6[1].note
    attempt8 = [p for p in programs if p.attempt == 8]
    assert [p.status for p in attempt8] == [Status.DUPLICATE, Status.DUPLICATE]    # replans = 1, then it ends
    assert not store.evaluations(attempt8[0].id) and not store.evaluations(attempt8[1].id)
    evaluated = [p.fingerprint for p in programs if p.status in Status.EVALUATION_BOUND and p.origin != "migration"]
    assert len(evaluated) == len(set(evaluated))
    assert store.unfinished_attempts(campaign) == [] and store.attempts_done(campaign) == 8


def test_llm_calls_are_accounted_including_failures(finished_campaign):
    _, store, _, _ = finished_campaign
    totals = store.llm_totals(store.campaign_id("scripted"))
    with store.session() as s:
        from sqlalchemy import select

        from evolve.db.models import LLMCall

        statuses = [c.status for c in s.scalars(select(LLMCall))]
        errors = [c.error for c in s.scalars(select(LLMCall).where(LLMCall.status == "error"))]
    assert statuses.count("error") == 4
    assert any(e.startswith("HTTP 429") for e in errors) and any(e.startswith("HTTP 500") for e in errors)
    assert any("Timeout" in e for e in errors) and any(e.startswith("HTTP 400") for e in errors)
    assert totals["prompt_tokens"] > 0 and totals["cost_usd"] > 0


def test_best_program_is_correct(finished_campaign, pool):
    summary, store, _, run_dir = finished_campaign
    best = store.best_program(store.campaign_id("scripted"))
    assert best.id == summary.best_program and best.correct
    assert (run_dir / "best.py").read_text() == best.source
    request = make_request("level1/relu", "relu_torch.py")
    from dataclasses import replace

    result = pool.evaluate(replace(request, candidate_source=best.source), timeout=300)
    assert result.passed


@pytest.mark.parametrize("budget", ["llm_tokens = 1", "usd = 0.000001"])
def test_token_and_dollar_budgets_stop_new_attempts(ray_session, tmp_path, budget):
    with ScriptedOpenAIServer(fallback=FALLBACK) as server:
        config = tmp_path / "campaign.toml"
        text = config_text(server.base_url, CANDIDATES / "relu_evolvable_seed.py").replace(
            "iterations = 8", f"iterations = 8\n{budget}")
        config.write_text(text)
        summary = start_campaign(config, runs_root=tmp_path / "runs", show_progress=False)
    assert summary.status == "finished"
    assert summary.attempts == 1 and summary.llm["calls"] == 2


def test_every_call_is_readable_with_stark_show_and_counted_by_outcome_in_status(finished_campaign):
    import json

    from tests.stark.test_cli import stark

    summary, store, _, run_dir = finished_campaign
    assert summary.llm_outcomes["planner"]["error"] >= 1 and summary.llm_outcomes["coder"]["ok"] >= 1
    programs = store.programs(store.campaign_id("scripted"))
    rejected = next(p for p in programs if p.attempt == 4 and p.origin != "repair")
    result = stark("show", str(run_dir), str(rejected.id), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    coder = [c for c in report["llm_calls"] if c["role"] == "coder"][-1]
    assert "relu_kernel" in json.loads(coder["prompt"])[1]["content"] and "SEARCH" in coder["response"]
    assert coder["finish_reason"] == "stop"
    result = stark("show", str(run_dir), str(rejected.id))
    assert result.returncode == 0 and "[reply, finish: stop]" in result.stdout and "does not match" in result.stdout
    result = stark("status", str(run_dir))
    assert "planner" in result.stdout and "error" in result.stdout
    missing = stark("show", str(run_dir), "9999")
    assert missing.returncode == 2 and "no program 9999" in missing.stderr


def test_a_run_killed_while_re_planning_after_a_duplicate_plans_that_attempt_again(finished_campaign, tmp_path):
    """What a kill leaves between a recorded duplicate and the new plan: the attempt open in the ledger with a
    duplicate as its last program.  A resume starts that attempt over under the same number."""
    import shutil
    import sqlite3

    from evolve.launch import resume_campaign
    from tests.faults.harness import RunDatabase, assert_exactly_once

    _, _, _, run_dir = finished_campaign
    copy = tmp_path / "scripted"
    shutil.copytree(run_dir, copy, ignore=shutil.ignore_patterns("lock"))
    with sqlite3.connect(copy / "campaign.db") as conn:
        last = conn.execute("SELECT MAX(id) FROM programs WHERE attempt = 8").fetchone()[0]
        conn.execute("DELETE FROM programs WHERE id = ?", (last,))
        conn.execute("UPDATE attempts SET status = 'running', outcome = '', program_id = NULL WHERE number = 8")
    with ScriptedOpenAIServer(fallback=FALLBACK) as server:
        urls = [f"agents.{role}.llm.base_url={server.base_url}" for role in ("planner", "coder", "reviewer")]
        summary = resume_campaign(copy, show_progress=False, overrides=urls)
    assert summary.status == "finished" and summary.attempts == 8
    db = RunDatabase(copy / "campaign.db")
    statuses = [s for (s,) in db.query("SELECT status FROM programs WHERE attempt = 8 ORDER BY id")]
    assert statuses == [Status.DUPLICATE] * 3          # the one left behind, then the restarted attempt's two
    assert_exactly_once(db, 8, 16)
    db.close()


def test_diffs_and_descriptors_are_those_of_the_sources_whoever_worked_them_out(finished_campaign):
    """The pipeline's actor works out a proposal's diff and descriptors; a repair's come from the driver."""
    from stark.agents.program_features import program_features
    from stark.edits import unified_diff

    _, store, _, _ = finished_campaign
    programs = store.programs(store.campaign_id("scripted"))
    sources = {p.id: p.source for p in programs}
    checked = [p for p in programs if p.origin in ("mutation", "repair") and p.status != Status.INVALID]
    assert {p.origin for p in checked} == {"mutation", "repair"}
    for p in checked:
        assert p.diff == unified_diff(sources[p.parent_id], p.source), p.id
        if p.status in (Status.EVALUATED, Status.FAILED):
            assert program_features(p.source).items() <= p.features.items(), p.id
