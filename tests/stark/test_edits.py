"""Every edit form a model writes, read leniently, confined to EVOLVE-BLOCK regions."""

import pytest

from stark.edits import EditError, apply_edit as applied, evolvable_spans, unified_diff


def apply_edit(parent, reply, **kw):
    return applied(parent, reply, **kw).child

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
    ("I think you should make it faster.", "no edit found"),
    (edit("return torch.sigmoid(x)", "return x"), "does not match the program text: closest is line 8"),
    (edit("        return kernel(x)", "        return x"), "outside the EVOLVE-BLOCK"),
    (edit("SCALE", "SCALE2"), "matches 2 places"),
    (edit("SCALE = 1.0", "SCALE = 1.0"), "unchanged"),
    ("```python\nimport torch\nclass ModelNew(torch.nn.Module):\n    pass\n```", "outside the EVOLVE-BLOCK"),
])
def test_bad_edits_are_model_mistakes_with_reasons(response, message):
    with pytest.raises(EditError, match=message):
        apply_edit(PROGRAM, response)


def test_full_rewrite_that_keeps_frozen_parts_is_accepted():
    rewritten = PROGRAM.replace("torch.relu(x) * SCALE", "x.clamp_min(0) * SCALE")
    assert apply_edit(PROGRAM, f"```python\n{rewritten}```") == rewritten


def test_file_without_markers_is_wholly_evolvable_and_markers_must_pair():
    assert evolvable_spans("a = 1\n") == [(0, 6)]
    with pytest.raises(EditError, match="without"):
        evolvable_spans("# EVOLVE-BLOCK-START\na = 1\n")


# what real models write ---------------------------------------------------------------------------------------

def test_search_text_with_wrong_indentation_matches_and_the_replacement_is_shifted():
    reply = edit("    def kernel(x):\n        return torch.relu(x) * SCALE", "    def kernel(x):\n        return torch.relu(x) * 2")
    child = apply_edit(PROGRAM, reply)
    assert "def kernel(x):\n    return torch.relu(x) * 2\n" in child


def test_trailing_spaces_blank_lines_and_copied_line_numbers_are_forgiven():
    assert "SCALE = 3.0" in apply_edit(PROGRAM, edit("SCALE = 1.0   ", "SCALE = 3.0"))
    numbered = "   4| SCALE = 1.0\n   5|\n   6|\n   7| def kernel(x):"
    child = apply_edit(PROGRAM, edit(numbered, "SCALE = 5.0\n\n\ndef kernel(x):"))
    assert "SCALE = 5.0\n\n\ndef kernel(x):\n    return" in child
    child = apply_edit(PROGRAM, edit("SCALE = 1.0\ndef kernel(x):", "SCALE = 6.0\n\n\ndef kernel(x):"))
    assert child.count("def kernel") == 1 and "SCALE = 6.0" in child


def test_markers_with_three_brackets_and_lowercase_inside_a_fence():
    reply = "```\n<<< search\nSCALE = 1.0\n===\nSCALE = 7.0\n>>> replace\n```"
    assert "SCALE = 7.0" in apply_edit(PROGRAM, reply)


def test_unified_diff_with_wrong_hunk_header_applies():
    reply = ("```diff\n--- a/program.py\n+++ b/program.py\n@@ -40,3 +40,3 @@\n def kernel(x):\n"
             "-    return torch.relu(x) * SCALE\n+    return torch.relu(x) * SCALE * 2\n```")
    result = applied(PROGRAM, reply)
    assert result.form == "unified diff" and "* SCALE * 2\n" in result.child


def test_rewrite_of_one_function_replaces_only_that_definition():
    reply = "Here is the faster kernel:\n```python\ndef kernel(x):\n    return x.clamp_min(0) * SCALE\n```"
    result = applied(PROGRAM, reply)
    assert result.form == "definitions rewrite"
    assert "x.clamp_min(0) * SCALE" in result.child and "SCALE = 1.0" in result.child


def test_rewrite_that_retypes_the_frozen_docstring_is_spliced_into_the_parents_frame():
    parent = '"""Frozen docstring, exactly so."""\n' + PROGRAM
    retyped = '"""Frozen docstring, exactly so"""\n' + PROGRAM.replace("* SCALE", "* SCALE * 3")
    result = applied(parent, f"```python\n{retyped}```")
    assert result.child.startswith('"""Frozen docstring, exactly so."""') and "* SCALE * 3" in result.child
    without_markers = "\n".join(line for line in retyped.splitlines() if "EVOLVE-BLOCK" not in line)
    result = applied(parent, f"```python\n{without_markers}\n```")
    assert result.form == "whole-program rewrite" and "* SCALE * 3" in result.child
    assert result.child.startswith('"""Frozen docstring, exactly so."""')


def test_region_body_rewrite_and_json_edits():
    body = "SCALE = 0.5\n\n\ndef kernel(x):\n    return torch.relu(x) * SCALE\n"
    assert "SCALE = 0.5" in apply_edit(PROGRAM, f"```python\n{body}```")
    reply = '{"edits": [{"search": "SCALE = 1.0", "replace": "SCALE = 9.0"}]}'
    result = applied(PROGRAM, reply)
    assert result.form == "json edits" and "SCALE = 9.0" in result.child


@pytest.mark.parametrize("reply,message", [
    ("<<<<<<< SEARCH\nSCALE = 1.0\n=======\nSCALE = 2", "cut off inside a SEARCH/REPLACE block"),
    ("```python\ndef kernel(x):\n    return", "cut off inside its code block"),
    ("```python\ndef kernel(x) return x\n```", "syntax error at line 1"),
    ("```python\nclass ModelNew(torch.nn.Module):\n    pass\n```", "outside the EVOLVE-BLOCK"),
])
def test_unusable_replies_say_what_was_wrong(reply, message):
    with pytest.raises(EditError, match=message):
        apply_edit(PROGRAM, reply)


def test_truncated_reply_names_the_limit_and_strict_mode_reads_only_exact_forms():
    with pytest.raises(EditError, match="truncated at the output token limit"):
        apply_edit(PROGRAM, "Let me think about", truncated=True)
    with pytest.raises(EditError, match="does not match"):
        apply_edit(PROGRAM, edit("SCALE = 1.0   ", "SCALE = 3.0"), strict=True)


def test_a_placeholder_program_is_not_read_as_the_regions_new_body():
    """SmolLM2-135M answered `{"program": "seed-2.0"}`: valid Python, but not a policy."""
    policy = "import math\n\n# EVOLVE-BLOCK-START\nW = 1.0\n\n\ndef priority(block, now):\n    return W * now\n# EVOLVE-BLOCK-END\n"
    with pytest.raises(EditError, match="drops priority"):
        apply_edit(policy, '{ "program": "seed-2.0" }')


def test_grammar_schemas_name_only_real_lines_and_citations_in_range():
    import re

    from stark.edits.structured import edit_schema, plan_schema, up_to

    for n in (1, 9, 10, 57, 100, 128, 1234):
        assert [i for i in range(2000) if re.fullmatch(up_to(n), str(i))] == list(range(1, n + 1))
    lines = plan_schema(PROGRAM)["properties"]["instructions"]["items"]["properties"]["lines"]["pattern"]
    assert re.fullmatch(lines, "L3-L14") and not re.fullmatch(lines, "L15") and not re.fullmatch(lines, "L<a>-L<b>")
    quoted = PROGRAM.replace("SCALE = 1.0", 'SCALE = float("1.0")')
    search = edit_schema(quoted)["properties"]["edits"]["items"]["properties"]["search"]
    assert search["enum"] == ["def kernel(x):", "    return torch.relu(x) * SCALE"]   # unique, inside, no quotes


def test_the_same_edit_written_twice_counts_once():
    """SmolLM2-135M repeated its one JSON edit; the second copy no longer matched and sank the first."""
    reply = '{"edits": [{"search": "SCALE = 1.0", "replace": "SCALE = 4.0"}, {"search": "SCALE = 1.0", "replace": "SCALE = 4.0"}]}'
    assert "SCALE = 4.0" in apply_edit(PROGRAM, reply)
