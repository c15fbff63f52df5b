"""The offline mutator's roles and the reviewer's static screening."""

import random

from stark.agents.offline import OfflineCoder, OfflinePlanner, OfflineReviewer, mutate_value, tunables
from stark.agents.records import CodeRequest, PlanRequest, ProgramView
from stark.agents.screening import screen
from tests.conftest import BUNDLED

SEED = (BUNDLED / "matmul_square_tiled.py").read_text()


def test_tunables_found_only_inside_evolve_blocks():
    found = {t.name: t for t in tunables(SEED)}
    assert set(found) == {"BLOCK_I", "BLOCK_J", "BLOCK_K", "CPP_SOURCE"}
    assert (found["BLOCK_I"].value, found["BLOCK_I"].low, found["BLOCK_I"].high) == (4, 1.0, 256.0)


def test_mutations_respect_ranges_and_kinds():
    rng = random.Random(0)
    block = next(t for t in tunables(SEED) if t.name == "BLOCK_I")
    values = {mutate_value(block, rng) for _ in range(50)}
    assert values == {2, 8}
    one = next(t for t in tunables("# EVOLVE-BLOCK-START\nN = 1  # range: 1..4\n# EVOLVE-BLOCK-END\n"))
    assert {mutate_value(one, rng) for _ in range(20)} <= {1, 2}


def test_offline_plan_then_code_produces_a_grounded_applied_edit():
    parent = ProgramView(1, SEED, 0.1, True)
    plan = OfflinePlanner().plan(PlanRequest(1, 7, "problem", parent))
    assert plan.instructions.startswith("[L") and not plan.error
    proposal = OfflineCoder().code(CodeRequest(1, 7, plan, parent))
    assert proposal.source is not None and proposal.source != SEED
    changed = {t.name: t.value for t in tunables(proposal.source)}
    assert changed != {t.name: t.value for t in tunables(SEED)}
    block_lines = [line for line in proposal.source.splitlines() if line.startswith("BLOCK_")]
    assert len(block_lines) == 3 and all("  # range: " in line for line in block_lines)


def test_offline_planner_avoids_what_siblings_tried_and_is_seeded():
    parent = ProgramView(1, SEED, 0.1, True)
    first = OfflinePlanner().plan(PlanRequest(1, 3, "p", parent))
    assert first == OfflinePlanner().plan(PlanRequest(1, 3, "p", parent))
    sibling = ProgramView(2, SEED, None, False, strategy=first.strategy)
    second = OfflinePlanner().plan(PlanRequest(1, 3, "p", parent, siblings=(sibling,)))
    assert second.strategy != first.strategy


def test_offline_planner_without_tunables_says_so():
    plan = OfflinePlanner().plan(PlanRequest(1, 0, "p", ProgramView(1, "class ModelNew:\n    pass\n")))
    assert plan.instructions == "" and "no untried move" in plan.error


def test_screening_catches_reference_calls_and_escapes():
    ok = "import torch\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x.relu()\n"
    assert screen(ok) == ""
    assert "reference class Model" in screen(ok + "\nm = Model()\n")
    assert "imports inspect" in screen("import inspect\n" + ok)
    assert "loaded modules" in screen(ok + "\nimport sys\nsys.modules['x']\n")
    assert "asks you to replace" in screen(ok.replace("x.relu()", "torch.matmul(x, x)"), ["torch.matmul"])
    assert "no top-level ModelNew" in screen("x = 1\n")
    assert screen("def priority(block, now, clock):\n    return 0\n", entry_points=("priority",)) == ""
    assert "syntax error" in screen("def (:\n")
    policy = "def priority(block, now, clock):\n    return 0\n"
    assert "imports kernelbench" in screen("from kernelbench.discovery import load_discovery_problem\n" + policy,
                                           entry_points=("priority",))
    assert "opens files" in screen(policy + "trace = open('/x').read()\n", entry_points=("priority",))
    assert "calls exec" in screen(policy + "exec('1')\n", entry_points=("priority",))
    assert not OfflineReviewer().screen(ok + "\nget_inputs()\n").accepted


def test_prompts_frame_kernels_by_default_and_discovery_problems_by_their_objective():
    from stark.agents.framing import discovery_framing
    from stark.agents.prompting import template

    for role in ("planner", "coder", "reviewer"):
        kernel = template(role)
        assert "optimizes a kernel for speed" in kernel and "{" not in kernel
        policy = template(role, discovery_framing("saved_mean", "higher is better", ("priority",)))
        assert "deterministic simulator on saved_mean (higher is better)" in policy
        assert "ModelNew" not in policy and "kernel" not in policy and "{" not in policy
    assert "`priority`" in template("coder", discovery_framing("saved_mean", "higher is better", ("priority",)))
