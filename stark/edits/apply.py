"""One entry point: whichever form the reply used, a child that keeps the parent's frozen parts, or EditError."""

from __future__ import annotations

from dataclasses import dataclass

from stark.edits import rewrite, search_replace, structured, unified
from stark.edits.errors import EditError
from stark.edits.regions import frozen_parts


@dataclass(frozen=True, slots=True)
class Applied:
    child: str
    form: str
    """Which reading of the reply produced the child: search/replace, unified diff, json edits, a rewrite..."""


def _checked(parent: str, child: str, form: str) -> Applied:
    if frozen_parts(child) != frozen_parts(parent):
        raise EditError("the edit changed code outside the EVOLVE-BLOCK regions")
    if child == parent:
        raise EditError("the edit leaves the program unchanged")
    return Applied(child, form)


def apply_edit(parent: str, reply: str, strict: bool = False, truncated: bool = False) -> Applied:
    """`strict` reads only exact SEARCH/REPLACE and exact full rewrites (how replies were read before).
    `truncated` says the reply hit its token limit, so a failure names that as the likely cause."""
    try:
        return _apply(parent, reply, strict)
    except EditError as exc:
        if truncated:
            raise EditError(f"reply truncated at the output token limit; {exc}") from None
        raise


def _apply(parent: str, reply: str, strict: bool) -> Applied:
    parsed = search_replace.parse(reply)
    if parsed.blocks:
        return _checked(parent, search_replace.apply_blocks(parent, parsed.blocks, strict), "search/replace")
    if strict:
        blocks, _ = rewrite.fenced_blocks(reply)
        if not blocks:
            raise EditError("no fenced ```python block with the full program found")
        return _checked(parent, max(blocks, key=len), "full rewrite")
    data = structured.json_object(reply) if "{" in reply else None
    if data is not None and (data.get("edits") or data.get("program")):
        if data.get("edits"):
            return _checked(parent, search_replace.apply_blocks(parent, structured.edit_blocks(data)), "json edits")
        child, form = rewrite.from_fences(parent, f"```python\n{data['program']}\n```")
        return _checked(parent, child, f"json {form}")
    if unified.looks_like_diff(reply):
        return _checked(parent, search_replace.apply_blocks(parent, unified.parse(reply)), "unified diff")
    if parsed.unterminated:
        raise EditError("reply cut off inside a SEARCH/REPLACE block")
    child, form = rewrite.from_fences(parent, reply)
    return _checked(parent, child, form)
