"""Twins are found however they are written, and programs that behave differently are never merged."""

import pytest

from evolve.db.store import ProgramStore
from evolve.novelty import find_repeat
from evolve.records import Status
from stark.edits.normalized_code import fingerprint, normalize_c, similarity, tokens
from tests.conftest import REPO

CPP_PROGRAM = '''import torch
from torch.utils.cpp_extension import load_inline

SOURCE = """
#include <torch/extension.h>
// scale every element
torch::Tensor scale(torch::Tensor x) {
    const char* tag = "a  // b";
    return x * 2;   /* the whole kernel */
}
"""

class ModelNew(torch.nn.Module):
    """Scales."""
    def forward(self, x):
        return x * 2  # same as the extension
'''


def test_layout_comments_docstrings_and_cpp_comments_are_not_part_of_a_program():
    twin = (CPP_PROGRAM.replace("// scale every element\n", "")
            .replace("    return x * 2;   /* the whole kernel */", "return x * 2;")
            .replace('    """Scales."""\n', "").replace("  # same as the extension", "")
            .replace("        return x * 2\n", "        return x*2\n") + "\n\n# trailing comment\n")
    assert twin != CPP_PROGRAM and fingerprint(twin) == fingerprint(CPP_PROGRAM)


@pytest.mark.parametrize("change", [
    ("x * 2  #", "x * 3  #"),                                # Python code
    ("return x * 2;", "return x * 3;"),                      # C++ code
    ('"a  // b"', '"a // b"'),                               # spaces inside a C string literal
    ("import torch\n", "import torch as torch_\ntorch = torch_\n"),
    ("#include <torch/extension.h>", "#include <torch/extension.h>\n#define X (1)"),
])
def test_any_change_of_behaviour_is_a_different_program(change):
    other = CPP_PROGRAM.replace(*change)
    assert other != CPP_PROGRAM and fingerprint(other) != fingerprint(CPP_PROGRAM)


def test_preprocessor_lines_keep_their_ends_and_splices_join():
    assert normalize_c("#define A 1\nint  x;  // c\n") != normalize_c("#define A 1 int x;\n")
    assert normalize_c("#define A \\\n  1\n") == normalize_c("#define A 1\n")
    assert normalize_c("#define F(x) x\n") != normalize_c("#define F (x) x\n")


def test_unparsable_sources_compare_by_their_lines():
    assert fingerprint("def f(:\n  pass   \n\n") == fingerprint("def f(:\n  pass\n")
    assert fingerprint("def f(:\n  pass\n") != fingerprint("def f(:\n    pass\n")


def test_a_source_too_deep_for_the_parser_still_has_a_fingerprint():
    deep = "x = " + "-" * 200_000 + "1\n"
    assert fingerprint(deep) == fingerprint(deep + "\n\n") != fingerprint(deep.replace("1\n", "2\n"))


def test_similarity_is_one_for_twins_and_falls_with_the_share_changed():
    source = (REPO / "kernelbench" / "candidates" / "matmul_square_tiled.py").read_text()
    same = similarity(tokens(source), tokens("# note\n" + source))
    tweaked = similarity(tokens(source), tokens(source.replace("BLOCK_K = ", "BLOCK_K = 2 * ")))
    unrelated = similarity(tokens(source), tokens("import torch\nprint(torch.ones(3))\n"))
    assert same == 1.0 and 0.98 < tweaked < 1.0 and unrelated < 0.2


def test_find_repeat_names_the_first_evaluated_twin_then_the_closest_neighbour(tmp_path):
    store = ProgramStore(tmp_path / "run.db")
    campaign = store.create_campaign("c", "p", {})
    rejected = store.add_program(campaign, attempt=1, source=CPP_PROGRAM, parent_id=None, island=0, generation=0,
                                 origin="mutation", status=Status.REJECTED)
    assert find_repeat(store, campaign, CPP_PROGRAM, [], 0.0) is None      # the screen's verdict is not a twin's
    first = store.add_program(campaign, attempt=2, source=CPP_PROGRAM, parent_id=None, island=0, generation=0,
                              origin="mutation")
    store.record_evaluation(first, {"speedup_vs_eager": 1.0}, objectives=(1.0,), features={})
    repeat = find_repeat(store, campaign, "# again\n" + CPP_PROGRAM, [], 0.0)
    assert repeat.status == Status.DUPLICATE and repeat.original == first != rejected
    close = CPP_PROGRAM.replace("x * 2  #", "x * 2.0  #")
    neighbour = store.program(first)
    assert find_repeat(store, campaign, close, [neighbour], 0.0) is None           # near-duplicates are opt-in
    near = find_repeat(store, campaign, close, [neighbour], 0.9)
    assert near.status == Status.NEAR_DUPLICATE and near.original == first and "% of its normalized" in near.note
    assert find_repeat(store, campaign, close, [neighbour], 0.999) is None
    store.close()
