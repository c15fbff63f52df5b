"""What the LLM roles send, checked on the wire (the scripted OpenAI-compatible test server)."""

import json

from stark.agents.framing import discovery_framing
from stark.agents.llm_roles import LLMCoder, LLMPlanner
from stark.agents.records import CodeRequest, Plan, PlanRequest, ProgramView
from stark.llm.client import OpenAIChatClient
from stark.llm.settings import ModelSettings
from tests.scripted_llm_server import ScriptedOpenAIServer, Step
from tests.stark.test_plans import SEED

EDIT = "<<<<<<< SEARCH\n    return torch.relu(x) * 1.0\n=======\n    return torch.relu(x)\n>>>>>>> REPLACE"


def role(cls, server, framing=None, **overrides):
    settings = ModelSettings(**{"model": "m", "base_url": server.base_url, "api_key_env": "", "timeout_s": 5.0,
                                "max_retries": 0, "tokenizer": "estimate", **overrides})
    return cls(OpenAIChatClient(settings), settings, **({"framing": framing} if framing else {}))


def sent_user_prompt(server) -> str:
    return server.requests[-1]["messages"][1]["content"]


def test_the_coder_sees_the_program_once_with_the_cited_lines_quoted_and_distinct_inspirations():
    parent = ProgramView(1, SEED, 1.0, True)
    twin = ProgramView(2, SEED, 1.0, True)
    other = ProgramView(3, SEED.replace("# fast path", "# other path"), 1.1, True)
    plan = Plan("drop the multiply", "- [L7] return relu directly")
    with ScriptedOpenAIServer({"m": [Step(EDIT)]}) as server:
        proposal = role(LLMCoder, server).code(CodeRequest(1, 0, plan, parent, (twin, other, other)))
        prompt = sent_user_prompt(server)
    assert proposal.source is not None and proposal.form == "search/replace"
    assert prompt.count("def relu_kernel") == 2          # the program and the one distinct inspiration
    assert "L7:     return torch.relu(x) * 1.0" in prompt and "   7| " not in prompt
    assert "program #3" in prompt and "program #2" not in prompt


def test_a_context_that_cannot_hold_the_program_and_the_reply_is_refused_without_a_call():
    parent = ProgramView(1, SEED * 20, 1.0, True)
    with ScriptedOpenAIServer({"m": [Step(EDIT)]}) as server:
        proposal = role(LLMCoder, server, context_tokens=1500, max_output_tokens=1000).code(
            CodeRequest(1, 0, Plan("s", "- [L7] x"), parent))
        assert server.requests == []
    assert proposal.source is None and "raise context_tokens or lower max_output_tokens" in proposal.error


def test_a_long_problem_source_leaves_room_for_the_inspirations():
    parent = ProgramView(1, SEED, 1.0, True)
    inspiration = ProgramView(3, SEED.replace("# fast path", "# inspired"), 1.1, True)
    simulator = "\n".join(f"def rule_{i}(x):\n    return x + {i}" for i in range(2000))
    plan = "STRATEGY: keep it\nINSTRUCTIONS:\n- [L7] return relu directly"
    with ScriptedOpenAIServer({"m": [Step(plan)]}) as server:
        planner = role(LLMPlanner, server, context_tokens=6000, max_output_tokens=1000)
        result = planner.plan(PlanRequest(1, 0, simulator, parent, inspirations=(inspiration,)))
        prompt = sent_user_prompt(server)
    assert result.instructions and "# inspired" in prompt and "trimmed to fit the context budget" in prompt


def test_discovery_planners_see_discovery_examples_and_structured_plans_are_read():
    framing = discovery_framing("saved_mean", "higher is better", ("priority",))
    reply = json.dumps({"strategy": "prefer recent", "instructions": [{"lines": "L6-L7", "change": "recency"}]})
    with ScriptedOpenAIServer({"m": [Step(reply)]}) as server:
        planner = role(LLMPlanner, server, output="json_schema", framing=framing)
        plan = planner.plan(PlanRequest(1, 0, "simulator", ProgramView(1, SEED, 1.0, True)))
        system = server.requests[-1]["messages"][0]["content"]
        assert server.requests[-1]["response_format"]["type"] == "json_schema"
    assert "retile for L1" not in system and "prefer recent items" in system
    assert plan.strategy == "prefer recent" and "[L6-L7] recency" in plan.instructions


def test_a_role_prompt_of_the_users_own_replaces_the_shipped_template(tmp_path):
    mine = tmp_path / "planner.md"
    mine.write_text("Plan tersely for a team that {mission}. Examples: {examples}.")
    with ScriptedOpenAIServer({"m": [Step("STRATEGY: s\nINSTRUCTIONS:\n- [L7] x")]}) as server:
        settings = ModelSettings(model="m", base_url=server.base_url, api_key_env="", tokenizer="estimate")
        LLMPlanner(OpenAIChatClient(settings), settings, prompt_path=str(mine)).plan(
            PlanRequest(1, 0, "p", ProgramView(1, SEED, 1.0, True)))
        system = server.requests[-1]["messages"][0]["content"]
    assert system.startswith("Plan tersely for a team that optimizes a kernel") and "retile for L1" in system


def test_an_unusable_reply_is_sent_back_once_with_what_was_wrong():
    wrong = EDIT.replace("* 1.0", "* 2.0")
    with ScriptedOpenAIServer({"m": [Step(wrong), Step(EDIT)]}) as server:
        proposal = role(LLMCoder, server).code(CodeRequest(1, 0, Plan("s", "- [L7] x"), ProgramView(1, SEED, 1.0, True)))
        second = server.requests[-1]["messages"]
    assert proposal.source is not None and len(proposal.calls) == 2
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert "does not match the program text: closest is line 7" in second[-1]["content"]
    with ScriptedOpenAIServer({"m": [Step(wrong)]}) as server:
        proposal = role(LLMCoder, server, format_retries=0).code(
            CodeRequest(1, 0, Plan("s", "- [L7] x"), ProgramView(1, SEED, 1.0, True)))
        assert len(server.requests) == 1 and "does not match" in proposal.error
