"""A program's code with what cannot change its behaviour taken out, so twins are found however they are written.

Two sources with the same normal form are treated as one program: the second is never evaluated.  The form is
therefore conservative — it may miss a twin (then it is only evaluated twice), but it must not merge two programs
that behave differently.  What it takes out:

- Python: comments, blank lines, layout, quoting style and docstrings (the AST, dumped without positions).
- C/C++ inside Python strings (a multi-line string with `{` and `;`, or an `#include`): comments, line-continuation
  backslashes, indentation, blank lines and runs of spaces; line breaks are kept (they end preprocessor lines) and
  so are string and character literals.

What it keeps: everything else, including names, the order of statements and numeric spelling (`32` vs `0x20`
differ: the AST keeps the value, so those are twins; `1.0` vs `1` are not, their types differ).  A source that
does not parse is compared by its lines with trailing spaces and blank lines removed.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
import re

_C_LITERAL_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*.*?(?:\*/|\Z)', re.S)
_C_LITERAL = re.compile(r'("(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')')
_SPACES = re.compile(r"[ \t\f\v]+")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_QUADRATIC_LIMIT = 10**9


def looks_like_c(text: str) -> bool:
    return "\n" in text and (("{" in text and ";" in text) or "#include" in text)


def normalize_c(text: str) -> str:
    """C/C++ with comments and insignificant spaces removed; literals and line structure kept."""
    text = text.replace("\\\n", "")               # translation phase 2: spliced lines are one line
    text = _C_LITERAL_OR_COMMENT.sub(lambda m: " " if m.group(0)[0] == "/" else m.group(0), text)
    lines = []
    for line in text.splitlines():
        pieces = _C_LITERAL.split(line)                 # odd pieces are the literals, kept as written
        line = "".join(p if i % 2 else _SPACES.sub(" ", p) for i, p in enumerate(pieces)).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


class _Canonical(ast.NodeTransformer):
    """Docstrings out, embedded C/C++ normalized."""

    def _drop_docstring(self, node):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
        return node

    def generic_visit(self, node):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._drop_docstring(node)
        return super().generic_visit(node)

    def visit_Constant(self, node: ast.Constant):
        if isinstance(node.value, str) and looks_like_c(node.value):
            return ast.copy_location(ast.Constant(normalize_c(node.value)), node)
        return node


def normalize(source: str) -> str:
    """The normal form; never raises on what a model wrote (it runs in the campaign driver, on untrusted text:
    a nesting too deep for the parser falls back to the line form like a syntax error does)."""
    try:
        return ast.dump(_Canonical().visit(ast.parse(source)), annotate_fields=False, include_attributes=False)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "\n".join(line.rstrip() for line in source.splitlines() if line.strip())


@functools.lru_cache(maxsize=64)
def fingerprint(source: str) -> str:
    """128 bits of the normal form's SHA-256: equal exactly when the normal forms are (collisions aside).
    Remembered for recent sources: a proposal is looked up (store.twin_of), then recorded (add_program)."""
    return hashlib.sha256(normalize(source).encode()).hexdigest()[:32]


def tokens(source: str) -> list[str]:
    return _TOKEN.findall(normalize(source))


def similarity(a: list[str], b: list[str], at_least: float = 0.0) -> float:
    """Share of tokens two normalized programs have in common, in order (difflib's ratio: 1.0 for twins).

    Below `at_least` the answer may be any lower bound: the cheap upper bounds are tried first, so
    comparing a proposal with a whole island stays fast when few are close."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for bound in (matcher.real_quick_ratio, matcher.quick_ratio):
        if (value := bound()) < at_least:
            return value
    if len(a) * len(b) > _QUADRATIC_LIMIT:      # a huge program: the bag-of-tokens bound stands in for the ratio
        return value
    return matcher.ratio()
