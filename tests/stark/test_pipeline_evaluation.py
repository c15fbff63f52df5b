"""The agents' pipeline sends an accepted proposal straight on to an evaluator (one reply per attempt to the
campaign's driver instead of two), never one whose normalized code it sent or was told of before, and says
which evaluator was gone for good so that the campaign replaces it once."""

from dataclasses import replace

import ray

from evaluators.dispatch import EvaluatorLost
from evaluators.pool import EvaluatorPool
from evaluators.records import EvalResult
from stark.agents.actors import start_agents
from stark.agents.records import PlanRequest, ProgramView
from stark.agents.settings import AgentSettings, RoleSettings
from stark.edits.normalized_code import fingerprint
from stark.llm.settings import ModelSettings
from tests.conftest import make_request
from tests.scripted_llm_server import ScriptedOpenAIServer, Step
from tests.stark.test_plans import SEED

PLAN = Step("STRATEGY: s\nINSTRUCTIONS:\n- [L7] return relu directly")


def edit(body: str) -> Step:
    return Step(f"<<<<<<< SEARCH\n    return torch.relu(x) * 1.0\n=======\n    return {body}\n>>>>>>> REPLACE")


def test_new_code_is_evaluated_in_the_pipeline_twins_and_known_code_are_not(ray_session, tmp_path):
    known = SEED.replace("return torch.relu(x) * 1.0", "return torch.clamp_min(x, 0.0)")
    script = {"c": [edit("torch.relu(x)"), edit("torch.relu(x)  # the same, once comments go"),
                    edit("torch.clamp_min(x, 0.0)")]}
    with ScriptedOpenAIServer(script, fallback={"p": PLAN}) as server:
        def llm(model):
            return RoleSettings("llm", ModelSettings(model=model, base_url=server.base_url, api_key_env="",
                                                     tokenizer="estimate", timeout_s=10))
        agents, gates = start_agents(AgentSettings(planner=llm("p"), coder=llm("c")))
        pool = EvaluatorPool(1, scratch_root=str(tmp_path))
        try:
            pipeline = agents["pipeline"]
            template = replace(make_request("level1/relu", "relu_evolvable_seed.py"), candidate_source="")
            ray.get([pipeline.use_evaluators.remote(pool.actors, pool.generations, template),
                     pipeline.remember.remote([fingerprint(known)])], timeout=60)
            parent = ProgramView(1, SEED, 1.0, True)
            first, twin, told = (ray.get(pipeline.propose.remote(PlanRequest(n, n, "problem", parent)), timeout=300)
                                 for n in (1, 2, 3))
            assert isinstance(first.evaluation, EvalResult) and first.evaluation.passed
            assert twin.verdict.accepted and twin.fingerprint == first.fingerprint and twin.evaluation is None
            assert told.verdict.accepted and told.fingerprint == fingerprint(known) and told.evaluation is None

            ray.kill(pool.actors[0])           # gone for good: Ray does not restart a killed actor
            request = make_request("level1/relu", "relu_evolvable_seed.py")
            lost = ray.get(pipeline.evaluate.remote(request), timeout=120)
            assert lost == EvaluatorLost(0, 0)
            assert pool.replace(lost) and not pool.replace(lost)    # a second call that found it gone: no new one
            ray.get(pipeline.use_evaluator.remote(0, pool.actors[0], pool.generations[0]), timeout=60)
            again = ray.get(pipeline.evaluate.remote(request), timeout=300)
            assert isinstance(again, EvalResult) and again.passed, again
        finally:
            pool.shutdown()
            for handle in [*agents.values(), *gates]:
                ray.kill(handle)
