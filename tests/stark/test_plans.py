"""Plans as models write them: lenient headers and citations, grounding repaired, nonsense rejected."""

from pathlib import Path

from stark.agents.plans import quote_cited_lines, read_plan

SEED = (Path(__file__).parents[1] / "candidates" / "relu_evolvable_seed.py").read_text()


def test_markdown_headers_and_spelled_out_line_ranges_are_read():
    plan = read_plan("**Strategy:** fuse the scale\n### Instructions\n1. In lines 6-7, drop the multiply", SEED)
    assert (plan.strategy, plan.problem) == ("fuse the scale", "")
    assert "[L6-L7]" in plan.instructions


def test_a_plan_without_citations_is_grounded_by_the_names_it_mentions():
    plan = read_plan("Make relu_kernel return the relu directly.", SEED)
    assert not plan.problem and "relu_kernel" in plan.repaired and "[L5] relu_kernel" in plan.instructions


def test_plans_that_cite_nothing_real_are_rejected_before_a_coder_call():
    assert "names nothing in the program" in read_plan("Make it faster, it is slow.", SEED).problem
    assert "outside the program (L6-L70" in read_plan("STRATEGY: x\nINSTRUCTIONS:\n- [L6-L70] go", SEED).problem
    assert read_plan("STRATEGY: only a name", SEED).problem == "plan rejected: no instructions"


def test_cited_lines_are_quoted_for_the_coder():
    assert quote_cited_lines("- [L6-L7] change", SEED) == "L6:     # fast path\nL7:     return torch.relu(x) * 1.0"
