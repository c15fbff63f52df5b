"""SEARCH/REPLACE and full-rewrite edits confined to EVOLVE-BLOCK regions."""

import pytest

from stark.diffs import DiffError, apply_edit, evolvable_spans, unified_diff

PROGRAM = """import torch

# EVOLVE-BLOCK-START
SCALE = 1.0


def kernel(x):
    return torch.relu(x) * SCALE
# EVOLVE-BLOCK-END


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return kernel(x)
"""


def edit(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE"


def test_search_replace_inside_block():
    child = apply_edit(PROGRAM, "Here you go:\n" + edit("    return torch.relu(x) * SCALE", "    return torch.relu(x)"))
    assert "return torch.relu(x)\n" in child and "* SCALE\n" not in child
    assert unified_diff(PROGRAM, child).count("\n-") == 1


def test_several_blocks_apply_in_order():
    response = edit("SCALE = 1.0", "SCALE = 2.0") + "\n" + edit("* SCALE", "* SCALE * 0.5")
    assert "SCALE = 2.0" in apply_edit(PROGRAM, response) and "* SCALE * 0.5" in apply_edit(PROGRAM, response)


@pytest.mark.parametrize("response,message", [
    ("I think you should make it faster.", "no fenced"),
    (edit("return torch.sigmoid(x)", "return x"), "does not match"),
    (edit("        return kernel(x)", "        return x"), "outside the EVOLVE-BLOCK"),
    (edit("SCALE", "SCALE2"), "matches 2 places"),
    (edit("SCALE = 1.0", "SCALE = 1.0"), "unchanged"),
    ("```python\nimport torch\nclass ModelNew(torch.nn.Module):\n    pass\n```", "outside the EVOLVE-BLOCK"),
])
def test_bad_edits_are_model_mistakes_with_reasons(response, message):
    with pytest.raises(DiffError, match=message):
        apply_edit(PROGRAM, response)


def test_full_rewrite_that_keeps_frozen_parts_is_accepted():
    rewritten = PROGRAM.replace("torch.relu(x) * SCALE", "x.clamp_min(0) * SCALE")
    assert apply_edit(PROGRAM, f"```python\n{rewritten}```") == rewritten


def test_file_without_markers_is_wholly_evolvable_and_markers_must_pair():
    assert evolvable_spans("a = 1\n") == [(0, 6)]
    with pytest.raises(DiffError, match="without"):
        evolvable_spans("# EVOLVE-BLOCK-START\na = 1\n")
