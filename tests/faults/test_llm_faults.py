"""LLM faults against the real CLI and the scripted OpenAI-compatible test double made to misbehave: an
outage pauses the campaign (no attempt consumed, "waiting for LLM" visible) and it carries on when the
endpoint is back; an endpoint that never comes back ends the run cleanly and resumably; truncated, empty,
dripping and dropped replies are retried; a missing key or a dead endpoint is refused before anything starts."""

import json
import re
import time

import pytest

from tests.conftest import REPO
from tests.faults.harness import RunDatabase, assert_exactly_once, finish, run_cli, stark, status_json, wait_until
from tests.scripted_llm_server import ScriptedOpenAIServer, Step

pytestmark = pytest.mark.slow
SEED = REPO / "kernelbench/candidates/scratchpad_seed.py"
PLAN = Step("STRATEGY: weigh freed inputs\nINSTRUCTIONS:\n- [L8] raise FREE_WEIGHT")


def rewrite(weight: float) -> Step:
    seed = SEED.read_text()
    return Step(f"```python\n{seed.replace('FREE_WEIGHT = 0.0', f'FREE_WEIGHT = {weight}')}```")


def config_text(base_url: str, name: str, budget: int, outage_s: float = 60.0, key_env: str = "") -> str:
    llm = (f'model = "{{model}}"\nbase_url = "{base_url}"\napi_key_env = "{key_env}"\ntimeout_s = 1.0\n'
           f'max_retries = 2\nbackoff_s = 0.05\ncall_deadline_s = 4.0\n')
    return f"""
[campaign]
name = "{name}"
problem = "discovery/scratchpad_planning"
seed_program = "{SEED}"
[budget]
iterations = {budget}
[pipeline]
proposals_in_flight = 2
evaluators = 2
repair_attempts = 0
llm_outage_s = {outage_s}
llm_probe_interval_s = 0.3
[[evolve.objectives]]
name = "extra_mean"
direction = "min"
[agents.planner]
kind = "llm"
[agents.planner.llm]
{llm.format(model="planner-model")}
[agents.coder]
kind = "llm"
[agents.coder.llm]
{llm.format(model="coder-model")}
"""


def llm_failures(db: RunDatabase) -> list:
    return db.query("SELECT attempt, note FROM programs WHERE note LIKE '%LLM call failed%'")


def test_an_outage_pauses_the_campaign_and_it_carries_on_when_the_endpoint_is_back(tmp_path):
    budget = 14
    coder = [rewrite(0.5), Step("{}", misbehave="truncated"), rewrite(1.0), Step(""), rewrite(2.0),
             Step("x", misbehave="reset"), rewrite(3.0), Step("slow", misbehave="drip", drip_s=0.3), rewrite(4.0)]
    with ScriptedOpenAIServer({"coder-model": coder}, {"planner-model": PLAN, "coder-model": rewrite(0.25)}) as server:
        config = tmp_path / "c.toml"
        config.write_text(config_text(server.base_url, "outage", budget))
        run_dir = tmp_path / "runs" / "outage"
        db = RunDatabase(run_dir / "campaign.db")
        process = stark("run", str(config), "--runs-root", str(tmp_path / "runs"), "--no-progress")
        wait_until(lambda: db.done_attempts() >= 4, process=process)
        server.outage(8.0)
        done_when_down = db.done_attempts()
        waiting = wait_until(lambda: status_json(run_dir)["status"] == "waiting for LLM", process=process, poll=0.3)
        assert waiting
        time.sleep(3.0)
        assert db.done_attempts() <= done_when_down + 2      # only attempts already past their LLM calls end
        code, _, err = finish(process, timeout=300)
        assert code == 0, err
    assert_exactly_once(db, budget, 16)
    assert llm_failures(db) == []
    log = [json.loads(line)["event"] for line in (run_dir / "campaign.log").read_text().splitlines()]
    assert "waiting for LLM" in log and "LLM back" in log
    errors = [e for (e,) in db.query("SELECT error FROM llm_calls WHERE status <> 'ok'")]
    assert any("malformed" in e for e in errors) and any("still arriving" in e for e in errors)
    assert any("no message content" in e for e in errors) and any("503" in e for e in errors)


def test_a_coder_down_after_the_plan_stalls_that_attempt_at_its_code_stage_and_resends_only_that(tmp_path):
    """The pipeline returns the plan with the coder's outage: the attempt waits at its code stage, and once the
    coder answers again only the coder is asked (the planner is never asked twice for one attempt)."""
    budget = 3
    coder = [Step("busy", 503)] * 3 + [rewrite(0.5), rewrite(1.0), rewrite(2.0)]     # 3 tries: max_retries = 2
    with ScriptedOpenAIServer({"coder-model": coder}, {"planner-model": PLAN, "coder-model": rewrite(0.25)}) as server:
        config = tmp_path / "c.toml"
        config.write_text(config_text(server.base_url, "coder-down", budget))
        run_dir = tmp_path / "runs" / "coder-down"
        code, _, err = finish(stark("run", str(config), "--runs-root", str(tmp_path / "runs"), "--no-progress",
                                    "--set", "pipeline.proposals_in_flight=1"), timeout=300)
        assert code == 0, err
        planned = [r for r in server.requests if r.get("model") == "planner-model"]
    db = RunDatabase(run_dir / "campaign.db")
    assert_exactly_once(db, budget, 16)
    assert llm_failures(db) == []
    assert len(planned) == budget
    events = [json.loads(line) for line in (run_dir / "campaign.log").read_text().splitlines()]
    assert any(e["event"] == "waiting for LLM" and e.get("role") == "coder" for e in events)
    assert any(e["event"] == "LLM back" for e in events)


def test_an_endpoint_that_never_comes_back_stops_the_run_cleanly_and_resume_finishes(tmp_path):
    budget = 3
    with ScriptedOpenAIServer(fallback={"planner-model": PLAN, "coder-model": rewrite(0.5)}) as server:
        config = tmp_path / "c.toml"
        config.write_text(config_text(server.base_url, "gone", budget, outage_s=3.0))
        run_dir = tmp_path / "runs" / "gone"
        db = RunDatabase(run_dir / "campaign.db")
        process = stark("run", str(config), "--runs-root", str(tmp_path / "runs"), "--no-progress")
        wait_until(lambda: db.seed_status() == "evaluated", process=process)
        server.outage(3600)
        code, _, err = finish(process, timeout=120)
        last = err.strip().splitlines()[-1]             # whichever role was waiting when the endpoint went
        assert code == 2 and re.match(r"error: (planner|coder) LLM endpoint http://127\.0\.0\.1:\d+/v1 ", last), err
        assert "unreachable for" in err and "stark resume" in err
        assert status_json(run_dir)["status"] == "stopped"
        assert llm_failures(db) == []
    code, _, err = run_cli("resume", str(run_dir), "--set", "campaign.problem=level1/relu", timeout=120)
    assert code == 2 and "campaign.problem changed from" in err, err
    with ScriptedOpenAIServer(fallback={"planner-model": PLAN, "coder-model": rewrite(0.5)}) as moved:
        code, _, err = finish(stark("resume", str(run_dir), "--no-progress",
                                    "--set", f"agents.planner.llm.base_url={moved.base_url}",
                                    "--set", f"agents.coder.llm.base_url={moved.base_url}"), timeout=300)
        assert code == 0, err
        assert moved.requests                              # the run went on against the endpoint's new address
    assert json.loads((run_dir / "config.json").read_text())["agents"]["coder"]["llm"]["base_url"] == moved.base_url
    assert_exactly_once(db, budget, 16)
    assert llm_failures(db) == []


def test_a_missing_key_or_dead_endpoint_is_refused_before_anything_starts(tmp_path):
    with ScriptedOpenAIServer(fallback={"planner-model": PLAN, "coder-model": rewrite(0.5)},
                              require_key="sekret") as server:
        config = tmp_path / "c.toml"
        config.write_text(config_text(server.base_url, "keyless", 4, key_env="STARK_TEST_KEY"))
        started = time.monotonic()
        code, _, err = run_cli("run", str(config), "--runs-root", str(tmp_path / "runs"), "--no-progress",
                               env={"STARK_TEST_KEY": ""}, timeout=120)
        assert code == 2 and err.count("\n") == 1, err
        assert "planner LLM endpoint: $STARK_TEST_KEY is not set" in err and 'api_key_env = ""' in err
        code, _, err = run_cli("run", str(config), "--runs-root", str(tmp_path / "runs"), "--no-progress",
                               env={"STARK_TEST_KEY": "wrong"}, timeout=120)
        assert code == 2 and err.count("\n") == 1, err
        assert f"planner LLM endpoint {server.base_url} (model planner-model) rejects the key in $STARK_TEST_KEY " \
               "(set)" in err
        assert time.monotonic() - started < 30 and not (tmp_path / "runs").exists()
        assert server.requests == []                       # checked with a models listing: no tokens spent
    dead = config.read_text().replace(server.base_url, "http://127.0.0.1:9/v1")
    config.write_text(dead)
    code, _, err = run_cli("run", str(config), "--runs-root", str(tmp_path / "runs"), "--no-progress",
                           env={"STARK_TEST_KEY": "any"}, timeout=120)
    assert code == 2 and "cannot be reached" in err and "127.0.0.1:9" in err, err
    assert not (tmp_path / "runs").exists()
