"""Roles that share an endpoint share its request slots: a local server is sent one request at a time."""

import ray

from stark.agents.actors import start_agents
from stark.agents.records import Plan, PlanRequest, CodeRequest, ProgramView
from stark.agents.settings import AgentSettings, RoleSettings
from stark.llm.settings import ModelSettings
from tests.scripted_llm_server import ScriptedOpenAIServer, Step
from tests.stark.test_plans import SEED

PLAN = Step("STRATEGY: s\nINSTRUCTIONS:\n- [L7] return relu directly", delay_s=0.3)
EDIT = Step("<<<<<<< SEARCH\n    return torch.relu(x) * 1.0\n=======\n    return torch.relu(x)\n>>>>>>> REPLACE",
            delay_s=0.3)


def test_a_local_endpoint_serves_one_request_at_a_time_across_roles(ray_session):
    with ScriptedOpenAIServer(fallback={"p": PLAN, "c": EDIT}) as server:
        def llm(model):
            return RoleSettings("llm", ModelSettings(model=model, base_url=server.base_url, api_key_env="",
                                                     tokenizer="estimate", timeout_s=10))
        agents, gates = start_agents(AgentSettings(planner=llm("p"), coder=llm("c")))
        parent = ProgramView(1, SEED, 1.0, True)
        refs = [agents["planner"].plan.remote(PlanRequest(i, i, "problem", parent)) for i in range(3)]
        refs += [agents["coder"].code.remote(CodeRequest(i, i, Plan("s", "- [L7] x"), parent)) for i in range(3)]
        outcomes = ray.get(refs, timeout=120)
        for handle in [*agents.values(), *gates]:
            ray.kill(handle)
        assert len(gates) == 1 and len(server.requests) == 6
        assert server.most_in_flight == 1
    assert all(o.instructions for o in outcomes[:3]) and all(o.source for o in outcomes[3:])
