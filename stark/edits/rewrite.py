"""Fenced code in a reply, read as a rewrite of the whole program, of its EVOLVE-BLOCK region, or of a few
top-level definitions.

Interpretations are tried in order and the first that yields a program which parses wins: (1) the fence
carries EVOLVE-BLOCK markers: its regions go into the parent's frame, so a frozen docstring retyped with
one character off does not sink the rewrite; (2) a whole program: its regions are found between the
frozen parts' boundary lines; (3) a set of definitions: each replaces the parent's definition of that name
inside a region, new ones are appended to the last region; (4) the body of the single region.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable

from stark.edits.errors import EditError
from stark.edits.regions import (END, START, evolvable_spans, frozen_parts, has_markers, line_starts, regions,
                                 splice, within)

_FENCE_OPEN = re.compile(r"^\s*```\s*([\w+-]*)\s*$")


def fenced_blocks(text: str) -> tuple[list[str], bool]:
    """The fenced code blocks (python or unlabeled), and whether one was left open (a cut-off reply)."""
    blocks, current, label = [], None, ""
    for line in text.splitlines(keepends=True):
        opened = _FENCE_OPEN.match(line)
        if current is None and opened:
            current, label = [], opened.group(1).lower()
        elif current is not None and line.strip().startswith("```"):
            if label in ("", "python", "py", "python3"):
                blocks.append("".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return blocks, current is not None and label in ("", "python", "py", "python3")


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
        return True
    except SyntaxError:
        return False


def _with_markers(parent: str, block: str) -> str:
    if not has_markers(block):
        raise EditError("no markers")
    return splice(parent, regions(block))


def _whole_program(parent: str, block: str) -> str:
    """Find each region of the parent inside the block between the frozen text's boundary lines."""
    if not has_markers(parent):
        return block                                   # the whole file is the region
    frame = frozen_parts(parent)
    lines = block.splitlines(keepends=True)
    position, found, outside = 0, [], []
    for before, after in zip(frame[:-1], frame[1:]):
        start = _after_anchor(lines, position, before)
        end = _before_anchor(lines, start, after)
        outside += lines[position:start]
        found.append("".join(lines[start:end]))
        position = end
    outside += lines[position:]
    alike = difflib.SequenceMatcher(None, _significant("".join(outside)), _significant("".join(frame))).ratio()
    if alike < 0.8:
        raise EditError(f"the code around the regions is only {alike:.0%} like the program's frozen code")
    return splice(parent, found)


def _significant(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and START not in line and END not in line]


def _after_anchor(lines: list[str], position: int, before: str) -> int:
    anchor = _significant(before)
    if not anchor:
        return position
    for i in range(position, len(lines)):
        if lines[i].strip() == anchor[-1]:
            return i + 1
    raise EditError(f"the rewrite lacks the frozen line {anchor[-1][:60]!r}")


def _before_anchor(lines: list[str], start: int, after: str) -> int:
    anchor = _significant(after)
    if not anchor:
        return len(lines)
    for i in range(start, len(lines)):
        if lines[i].strip() == anchor[0]:
            return i
    raise EditError(f"the rewrite lacks the frozen line {anchor[0][:60]!r}")


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    named = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            named[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            named[node.targets[0].id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            named[node.target.id] = node
    return named


def _span_of(node: ast.stmt) -> tuple[int, int]:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return first, node.end_lineno or node.lineno


def _definitions_merge(parent: str, block: str) -> str:
    """Replace the parent's definitions of the names the block defines; append new ones to the last region."""
    try:
        new_tree, old_tree = ast.parse(block), ast.parse(parent)
    except SyntaxError as exc:
        raise EditError(f"the fenced code has a syntax error at line {exc.lineno}: {exc.msg}") from None
    new_defs, old_defs = _definitions(new_tree), _definitions(old_tree)
    if not new_defs:
        raise EditError("the fenced code defines nothing")
    block_lines, lines = block.splitlines(keepends=True), parent.splitlines(keepends=True)
    starts, spans = line_starts(parent), evolvable_spans(parent)
    replaced, appended = [], []
    for name, node in new_defs.items():
        a, b = _span_of(node)
        text = "".join(block_lines[a - 1:b])
        if not text.endswith("\n"):
            text += "\n"
        old = old_defs.get(name)
        if old is None:
            appended.append(text)
            continue
        oa, ob = _span_of(old)
        begin, end = starts[oa - 1], starts[ob]
        if not within(spans, begin, end):
            if "".join(lines[oa - 1:ob]).strip() == text.strip():
                continue                                   # a frozen definition repeated unchanged
            raise EditError(f"the rewrite changes {name}, which lies outside the EVOLVE-BLOCK regions")
        replaced.append((begin, end, text))
    if not replaced and not appended:
        raise EditError("the fenced code changes no definition inside the EVOLVE-BLOCK regions")
    child = parent
    for begin, end, text in sorted(replaced, reverse=True):
        child = child[:begin] + text + child[end:]
    if appended:
        _, last_end = evolvable_spans(child)[-1]
        child = child[:last_end] + "\n" + "\n".join(appended) + child[last_end:]
    return child


def _frozen_names(parent: str) -> tuple[set[str], set[str]]:
    """(names the frozen code defines, names it uses) — what a region rewrite must not redefine / must keep."""
    defined, used = set(), set()
    for part in frozen_parts(parent):
        try:
            tree = ast.parse(part)
        except SyntaxError:
            continue                       # a frozen part cut mid-statement (a region inside a class body)
        defined |= set(_definitions(tree))
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return defined, used


def _region_names(source: str) -> set[str]:
    names = set()
    for region in regions(source):
        try:
            names |= set(_definitions(ast.parse(region)))
        except SyntaxError:
            pass
    return names


def _dropped(parent: str, child: str) -> str:
    """A rewrite that deletes what the frozen code calls would only fail later, at import: say so now."""
    _, used = _frozen_names(parent)
    if missing := sorted((_region_names(parent) & used) - _region_names(child)):
        return f"drops {', '.join(missing)}, which the code outside the regions uses"
    return ""


def _region_body(parent: str, block: str) -> str:
    spans = evolvable_spans(parent)
    if len(spans) != 1:
        raise EditError("the program has several EVOLVE-BLOCK regions; say which one with markers")
    try:
        new_names = set(_definitions(ast.parse(block)))
        old_region = ast.parse(regions(parent)[0])
    except SyntaxError as exc:
        raise EditError(f"the fenced code has a syntax error at line {exc.lineno}: {exc.msg}") from None
    defined, used = _frozen_names(parent)
    old_names = set(_definitions(old_region))
    functions = {n.name for n in old_region.body
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    if lost := sorted(functions - new_names):
        raise EditError(f"as the region's new body it drops {', '.join(lost)}; "
                        f"rewrite whole definitions, or use SEARCH/REPLACE")
    if clash := sorted(new_names & defined):
        raise EditError(f"the rewrite redefines {', '.join(clash)}, which lies outside the EVOLVE-BLOCK regions")
    if missing := sorted((old_names & used) - new_names):
        raise EditError(f"the rewrite drops {', '.join(missing)}, which the code outside the region uses")
    return splice(parent, [block])


INTERPRETATIONS: tuple[tuple[str, Callable[[str, str], str]], ...] = (
    ("rewrite with markers", _with_markers), ("whole-program rewrite", _whole_program),
    ("definitions rewrite", _definitions_merge), ("region rewrite", _region_body))


def from_fences(parent: str, text: str) -> tuple[str, str]:
    """(child, form) from the reply's fenced code, largest block first."""
    blocks, open_fence = fenced_blocks(text)
    if not blocks:
        raise EditError("reply cut off inside its code block" if open_fence
                        else "no edit found: no SEARCH/REPLACE block, diff or fenced python code")
    reasons = []
    for block in sorted(blocks, key=len, reverse=True):
        for form, interpret in INTERPRETATIONS:
            try:
                child = interpret(parent, block)
            except EditError as exc:
                reasons.append(f"{form}: {exc}")
                continue
            outside = frozen_parts(child) != frozen_parts(parent)
            problem = ("leaves the program unchanged" if child == parent
                       else "the result does not parse" if not _parses(child)
                       else "changes code outside the EVOLVE-BLOCK regions" if outside
                       else _dropped(parent, child))
            if not problem:
                return child, form
            reasons.append(f"{form}: {problem}")
    useful = [r for r in reasons if "no markers" not in r]
    raise EditError("fenced code could not be applied (" + "; ".join(useful[:3]) + ")")
