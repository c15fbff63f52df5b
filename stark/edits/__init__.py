"""Turning a model's reply into a child program, meeting real models halfway.

A reply may carry SEARCH/REPLACE blocks, a unified diff, a fenced rewrite (the whole program, just the
EVOLVE-BLOCK region, or a few functions), or a JSON object from structured output.  Whatever the form, the
child must keep the parent's frozen parts (outside EVOLVE-BLOCK markers) byte for byte; the forms are read
leniently (whitespace, indentation, copied line numbers, wrong hunk headers) because small models rarely copy
text exactly.  A reply that yields no child raises EditError saying what was wrong with it.
"""

from stark.edits.apply import Applied, apply_edit
from stark.edits.errors import EditError
from stark.edits.regions import changeable_lines, evolvable_spans, frozen_parts, unified_diff

__all__ = ["Applied", "EditError", "apply_edit", "changeable_lines", "evolvable_spans", "frozen_parts",
           "unified_diff"]
