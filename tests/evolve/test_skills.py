"""The skill library: skills recognized in strategies and diffs, tallied over every campaign of a database, and a
skill learned in one campaign offered to the planner of the next (scripted OpenAI-compatible LLM server)."""

import json

import pytest

from evolve.db.store import ProgramStore
from evolve.launch import start_campaign
from evolve.records import Status
from evolve.skills import SkillTally, added_lines, offered, planner_text, similarity, skills_in, tally
from tests.conftest import REPO
from tests.evolve.conftest import get, serve
from tests.evolve.test_campaign_llm import role
from tests.scripted_llm_server import ScriptedOpenAIServer, Step

SEED = (REPO / "kernelbench" / "candidates" / "scratchpad_seed.py").read_text()
BETTER = SEED.replace("NEXT_USE_WEIGHT = 0.0   #", "NEXT_USE_WEIGHT = -1.0  #")          # evict furthest next use


def test_skills_are_read_from_strategies_and_from_what_a_winning_diff_added():
    assert skills_in("tile the loops with BLOCK_K = 64") == {"tiling for cache"}
    assert skills_in("fuse bias and relu into one pass") == {"operator fusion"}
    assert skills_in("tune ROWS_PER_BLOCK: 2 -> 4; WRITE_INTO_OUTPUT") == {"tiling for cache", "writing into the output"}
    assert skills_in("make it faster") == set()
    diff = "--- parent\n+++ child\n@@\n-    y = x\n+    #pragma omp simd\n+    y = x\n"
    assert added_lines(diff) == "    #pragma omp simd\n    y = x"
    records = tally([("level1/relu", "make it faster", True, diff),           # won: the code says how
                     ("level1/relu", "vectorize the loop", False, ""),       # tried, lost
                     ("level1/gelu", "tile it", True, "+ x = 1\n"),
                     ("level1/gelu", "make it faster", False, "+#pragma omp simd\n")])   # a loser's code: not read
    assert (records["vectorizing the inner loop"].tries, records["vectorizing the inner loop"].wins) == (2, 1)
    assert records["tiling for cache"].problems == {"level1/gelu": 1}
    assert similarity("level1/matmul_square", "level1/matmul_batched") > similarity("level1/matmul_square", "level1/relu")
    ranked = offered(records, "level1/gelu")
    assert [r.name for r in ranked] == ["tiling for cache", "vectorizing the inner loop"], "this problem's wins first"
    assert "improved 1 of 2 tries; won on level1/relu" in planner_text(records, "level1/relu")


def as_counts(records) -> dict:
    return {name: (r.tries, r.wins, dict(r.problems)) for name, r in records.items()}


def test_the_campaigns_tally_kept_up_to_date_equals_one_taken_from_scratch(tmp_path):
    """Programs arrive in every campaign of the database; some wait for their verdict across reads, one is left
    waiting for good; the window drops the oldest.  After each read the kept tally is the one `tally` makes of
    the same window's programs with a verdict."""
    store = ProgramStore(tmp_path / "skills.db")
    window = 12
    kept = SkillTally(window)
    campaigns = [store.create_campaign(name, problem, {}) for name, problem in
                 (("a", "level1/relu"), ("b", "level1/gelu"))]
    seeds = {c: store.add_program(c, attempt=0, source="seed = 0\n", parent_id=None, island=0, generation=0,
                                  origin="seed") for c in campaigns}
    for c in campaigns:
        store.record_evaluation(seeds[c], {"passed": True}, objectives=[1.0], features={}, score=1.0)
    strategies = ["tile it with BLOCK_K", "fuse into one pass", "make it faster", "vectorize the loop", "unroll"]
    waiting: list[int] = []
    left_waiting = None
    for step in range(9):
        for k in range(4):
            c = campaigns[(step + k) % 2]
            pid = store.add_program(c, attempt=step + 1, source=f"v = {step}{k}\n", parent_id=seeds[c], island=0,
                                    generation=1, origin="mutation", strategy=strategies[(step * 4 + k) % 5],
                                    diff=f"--- a\n+++ b\n+#pragma omp simd {step}{k}\n")
            waiting.append(pid)
        if step == 1:
            left_waiting = waiting.pop(0)           # never gets a verdict
        for pid in waiting[:-3]:                    # the newest three wait for the next read
            better = pid % 3 == 0
            store.record_evaluation(pid, {"passed": better}, objectives=[1.0], features={},
                                    score=2.0 if better else 0.0)
            if not better:
                store.set_status(pid, Status.FAILED)
        waiting = waiting[-3:]
        got = as_counts(kept.read(store))
        judged = [row for row in store.skill_rows(0, 1000) if row[1] != Status.PROPOSED][-window:]
        assert got == as_counts(tally(row[2:] for row in judged)), step
    assert left_waiting is not None and kept.since > left_waiting       # the program left waiting holds nothing up
    assert any(r.wins for r in kept.records.values())
    store.close()


def campaign_config(path, name: str, base_url: str, database) -> None:
    text = (f'[campaign]\nname = "{name}"\nproblem = "discovery/scratchpad_planning"\n'
            f'seed_program = "{REPO / "kernelbench" / "candidates" / "scratchpad_seed.py"}"\ndatabase = "{database}"\n'
            '[budget]\niterations = 2\n[pipeline]\nproposals_in_flight = 1\nrepair_attempts = 0\n[evolve]\nislands = 1\n'
            '[[evolve.objectives]]\nname = "extra_mean"\ndirection = "min"\n')
    for agent in ("planner", "coder", "reviewer"):
        text += f"[agents.{agent}]\n" + role(agent, base_url)
    path.write_text(text)


@pytest.mark.llm
def test_a_skill_learned_in_one_campaign_is_offered_in_the_next(ray_session, tmp_path):
    database = tmp_path / "shared.db"                                  # two campaigns, one database
    script = {"planner-model": [Step("STRATEGY: reorder the eviction loop by next use\nINSTRUCTIONS:\n"
                                     "- [L12] weigh the next use")],
              "coder-model": [Step(f"```python\n{BETTER}```")]}
    fallback = {"planner-model": Step("STRATEGY: keep it\nINSTRUCTIONS:\n- [L8] leave the weights"),
                "coder-model": Step(f"```python\n{SEED.replace('# prefer ops whose inputs die', '# prefer ops that free')}```")}
    with ScriptedOpenAIServer(script, fallback) as server:
        for name in ("first", "second"):
            campaign_config(tmp_path / f"{name}.toml", name, server.base_url, database)
            start_campaign(tmp_path / f"{name}.toml", runs_root=tmp_path / "runs", show_progress=False)
    store = ProgramStore(database, create=False, read_only=True)
    try:
        first = store.campaign_id("first")
        seed, child = store.programs(first)[:2]
        assert child.strategy.startswith("reorder") and child.correct and child.score > seed.score, \
            "the scripted edit improved on its parent"
        records = tally(store.skill_evidence())
        assert records["loop reordering"].wins == 1 and records["loop reordering"].problems == {
            "discovery/scratchpad_planning": 1}
        second_plans = [c for c in store.llm_calls(store.campaign_id("second"), with_text=True) if c["role"] == "planner"]
        first_plans = [c for c in store.llm_calls(first, with_text=True) if c["role"] == "planner"]
    finally:
        store.close()
    asked = json.loads(second_plans[0]["prompt"])[-1]["content"]
    assert "Skills that worked on similar problems" in asked and "loop reordering" in asked
    assert "improved 1 of 1 tries" in asked
    assert "Skills that worked" not in json.loads(first_plans[0]["prompt"])[-1]["content"], "nothing learned yet"
    with serve(tmp_path / "runs") as url:                               # the viewer lists the library
        library = get(f"{url}/api/campaigns/second/skills")
    reorder = next(s for s in library["skills"] if s["skill"] == "loop reordering")
    assert (reorder["tries"], reorder["wins"], reorder["win_rate"]) == (1, 1, 1.0) and "loop reordering" in library["offered"]
