"""Replies from structured output (JSON schema or a tool call): the same edit forms, as fields of an object.

The schemas are what a role asks the endpoint for when its config selects `output = "json_schema"` or
`"tool"`; reading is lenient: the JSON may sit in a fence or among prose, and a plan or edit missing
optional fields still counts.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from stark.edits.regions import changeable_lines
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


def up_to(n: int) -> str:
    """A regular expression matching the decimal numbers 1..n (n >= 1), for grammar-constrained citations."""
    digits = str(n)
    parts = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    if len(digits) == 1:
        return f"[1-{n}]"
    for i, d in enumerate(digits):                     # numbers of the same length, prefix-wise below n
        prefix, low = digits[:i], 1 if i == 0 else 0
        if int(d) > low:
            tail = "[0-9]" * (len(digits) - i - 1)
            parts.append(f"{prefix}[{low}-{int(d) - 1}]{tail}")
    parts.append(digits)
    return "(" + "|".join(p.replace("[0-9]{0,0}", "") for p in parts) + ")"


def plan_schema(source: str) -> dict[str, Any]:
    """PLAN_SCHEMA with citations limited to the program's own line numbers."""
    number = up_to(max(1, len(source.splitlines())))
    schema = json.loads(json.dumps(PLAN_SCHEMA))
    schema["properties"]["instructions"]["items"]["properties"]["lines"]["pattern"] = f"^L{number}(-L{number})?$"
    return schema


def edit_schema(source: str) -> dict[str, Any]:
    """EDIT_SCHEMA whose `search` must be one whole line of the program that may change and occurs once: under
    grammar-constrained decoding every edit then applies, whatever the model's size (its replace is free)."""
    lines = source.splitlines()
    counts = Counter(lines)
    changeable = changeable_lines(source)
    # quotes and backslashes are left out: llama-cpp-python's schema-to-grammar step mis-escapes them, and a
    # grammar its server cannot parse kills the server (seen with `CPP_SOURCE = r"""`)
    choices = [text for number, text in enumerate(lines, start=1)
               if number in changeable and text.strip() and counts[text] == 1 and '"' not in text and "\\" not in text]
    schema = json.loads(json.dumps(EDIT_SCHEMA))
    if choices:
        schema["properties"]["edits"]["items"]["properties"]["search"] = {"type": "string", "enum": choices}
    return schema


def json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in the text, or None.  Raw newlines inside strings are accepted: grammar-constrained
    servers let models write them, and they mean what they say."""
    decoder = json.JSONDecoder(strict=False)
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
