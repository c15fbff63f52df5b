"""Replies a real small model wrote to stark's real prompts (SmolLM2-135M-Instruct on llama-cpp-python's server,
recorded by benchmarks/real_replies.py --record), replayed through the scripted OpenAI-compatible server into the
real roles: every reply becomes a plan or a program, or is rejected with what was wrong with it, exactly as the
benchmark reads it; and the lenient readers never use fewer replies than the strict ones did."""

import importlib.util
from collections import deque


from stark.agents.llm_roles import LLMCoder, LLMPlanner, LLMReviewer
from stark.agents.offline import OfflinePlanner
from stark.agents.records import CodeRequest, PlanRequest, ProgramView, RepairRequest
from stark.llm.client import OpenAIChatClient
from stark.llm.settings import ModelSettings
from tests.conftest import REPO
from tests.scripted_llm_server import ScriptedOpenAIServer, Step

_spec = importlib.util.spec_from_file_location("real_replies", REPO / "benchmarks" / "real_replies.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
ENTRIES = [entry for name in bench.fixture_names() for entry in bench.load_fixture(name)["entries"]]


def outcome_of(entry: dict, server: ScriptedOpenAIServer):
    settings = ModelSettings(model="recorded", base_url=server.base_url, api_key_env="", tokenizer="estimate",
                             context_tokens=8192, max_output_tokens=512, output=entry["output"], max_retries=0,
                             truncation_retries=0, format_retries=0, timeout_s=10)
    client = OpenAIChatClient(settings)
    source = (REPO / entry["seed"]).read_text()
    parent = ProgramView(0, source, 1.0, True, "evaluated")
    problem = "see the recorded prompt"
    if entry["role"] == "planner":
        plan = LLMPlanner(client, settings).plan(PlanRequest(1, 0, problem, parent))
        return bool(plan.instructions), plan.error
    if entry["role"] == "coder":
        plan = OfflinePlanner().plan(PlanRequest(1, 0, problem, parent))
        proposal = LLMCoder(client, settings).code(CodeRequest(1, 0, plan, parent))
    else:
        proposal = LLMReviewer(client, settings).repair(RepairRequest(1, 0, problem, parent, bench.FAILURE))
    return proposal.source is not None, proposal.error


def test_every_real_reply_is_used_or_rejected_with_its_reason():
    with ScriptedOpenAIServer() as server:
        for entry in ENTRIES:
            server.queues["recorded"] = deque([Step(entry["reply"], finish_reason=entry["finish_reason"] or "stop")])
            usable, error = outcome_of(entry, server)
            expected, how = bench.usable_now(entry, (REPO / entry["seed"]).read_text())
            assert usable == expected, (entry["reply"][:300], how, error)
            if not usable:
                assert error and (how in error or how.split(":")[0] in error), (how, error)
            if entry["finish_reason"] == "length" and not usable and entry["role"] != "planner":
                assert "truncated" in error, error


def test_lenient_reading_uses_at_least_what_strict_reading_did_and_more_overall():
    before = now = 0
    for entry in ENTRIES:
        source = (REPO / entry["seed"]).read_text()
        before += bench.usable_before(entry, source)
        now += bench.usable_now(entry, source)[0]
        assert bench.usable_now(entry, source)[0] or not bench.usable_before(entry, source), entry["reply"][:300]
    assert now >= before
