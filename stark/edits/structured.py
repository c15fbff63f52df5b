"""Replies from structured output (JSON schema or a tool call): the same edit forms, as fields of an object.

The schemas are what a role asks the endpoint for when its config selects `output = "json_schema"` or
`"tool"`; reading is lenient: the JSON may sit in a fence or among prose, and a plan or edit missing
optional fields still counts.
"""

from __future__ import annotations

import json
from typing import Any

from stark.edits.search_replace import Block

EDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "edits": {"type": "array", "minItems": 1, "maxItems": 6, "items": {
            "type": "object",
            "properties": {"search": {"type": "string", "minLength": 1}, "replace": {"type": "string"}},
            "required": ["search", "replace"]}},
    },
    "required": ["edits"],
}
"""Edits only: offered a whole-program field too, small models fill it with a placeholder (measured)."""
PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "strategy": {"type": "string", "minLength": 3, "maxLength": 80},
        "instructions": {"type": "array", "minItems": 1, "maxItems": 5, "items": {
            "type": "object",
            "properties": {"lines": {"type": "string", "pattern": "^L[1-9][0-9]{0,3}(-L[1-9][0-9]{0,3})?$"},
                           "change": {"type": "string", "minLength": 8}},
            "required": ["lines", "change"]}},
    },
    "required": ["strategy", "instructions"],
}
"""Grammar-constrained decoding (llama.cpp, vLLM) makes even a tiny model write a citation that parses."""


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in the text, or None."""
    decoder = json.JSONDecoder()
    for start in [i for i, ch in enumerate(text) if ch == "{"][:50]:
        try:
            value, _ = decoder.raw_decode(text[start:])
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def edit_blocks(data: dict[str, Any]) -> tuple[Block, ...]:
    edits = data.get("edits") or []
    if isinstance(edits, dict):
        edits = [edits]
    return tuple(Block(str(e.get("search", "")), str(e.get("replace", ""))) for e in edits
                 if isinstance(e, dict) and "search" in e)


def plan_text(data: dict[str, Any]) -> str:
    """A structured plan in the text form the rest of the pipeline reads."""
    lines = [f"STRATEGY: {str(data.get('strategy', '')).strip()}", "INSTRUCTIONS:"]
    instructions = data.get("instructions") or []
    if isinstance(instructions, str):
        instructions = [{"change": instructions}]
    for item in instructions:
        if isinstance(item, dict):
            ref = str(item.get("lines", "")).strip().strip("[]")
            lines.append(f"- [{ref}] {item.get('change', '')}" if ref else f"- {item.get('change', '')}")
        else:
            lines.append(f"- {item}")
    return "\n".join(lines)
