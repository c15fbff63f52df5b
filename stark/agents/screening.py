"""Static checks the reviewer runs before a candidate reaches an evaluator.

A model rewarded for speed learns to call the reference, reach into the evaluator's process, or use a
library op the problem asks it to replace.  These checks look at the candidate's syntax tree; they are a
first filter, not a proof (the evaluator's own checks come after).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

FORBIDDEN_NAMES = {
    "Model": "refers to the reference class Model",
    "get_inputs": "calls the problem's input generator",
    "get_init_inputs": "calls the problem's init-input generator",
    "open": "opens files (the problem's instances are files too)",
}
FORBIDDEN_MODULES = {"inspect", "gc", "importlib", "subprocess", "socket", "multiprocessing", "ctypes", "signal",
                     "requests", "urllib", "http", "pathlib", "shutil", "pickle", "marshal",
                     # stark's own packages: a candidate importing them can rebuild the evaluation instances
                     "kernelbench", "evaluators", "evolve", "stark"}
FORBIDDEN_ATTRIBUTES = {"sys.modules": "reaches into loaded modules", "sys._getframe": "inspects the caller's frames",
                        "os.system": "runs a shell", "os.fork": "forks", "os.kill": "signals other processes",
                        "builtins.__import__": "imports dynamically"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _library_route(node: ast.AST, forbidden_calls: set[str], forbidden_ops: set[str], libraries) -> str:
    """With ops forbidden, the same op under another name, through @, or in another library is refused too."""
    if not forbidden_calls:
        return ""
    line = getattr(node, "lineno", "?")
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for name in names:
            if name.split(".")[0] in libraries:
                return f"line {line}: imports {name}; this problem forbids library compute"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult) and "matmul" in forbidden_ops:
        return f"line {line}: uses @, a matrix product this problem asks you to replace"
    if isinstance(node, ast.Attribute) and node.attr in ("numpy", "__array__"):
        return f"line {line}: hands a tensor to numpy; this problem forbids library compute"
    if isinstance(node, ast.Call):
        dotted = _dotted(node.func)
        if dotted.startswith(("torch.", "F.", "ops.")) and dotted.split(".")[-1] in forbidden_ops:
            return f"line {line}: calls {dotted}, which this problem asks you to replace"
    return ""


def screen(source: str, forbidden_calls: Iterable[str] = (), entry_points: Iterable[str] = ("ModelNew",)) -> str:
    """The first problem found, as one line, or '' when the source passes."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    defined = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    for name in entry_points:
        if name not in defined:
            return f"defines no top-level {name}"
    from evaluators.forbidden import LIBRARY_MODULES, aten_names

    forbidden_calls = set(forbidden_calls)
    forbidden_ops = set(aten_names(tuple(forbidden_calls)))
    for node in ast.walk(tree):
        problem = _library_route(node, forbidden_calls, forbidden_ops, LIBRARY_MODULES)
        if problem:
            return problem
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            return f"line {node.lineno}: {FORBIDDEN_NAMES[node.id]}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_MODULES:
                    return f"line {node.lineno}: imports {name}"
        if isinstance(node, ast.Attribute) and _dotted(node) in FORBIDDEN_ATTRIBUTES:
            return f"line {node.lineno}: {FORBIDDEN_ATTRIBUTES[_dotted(node)]}"
        if isinstance(node, ast.Call) and _dotted(node.func) in forbidden_calls:
            return f"line {node.lineno}: calls {_dotted(node.func)}, which this problem asks you to replace"
        if isinstance(node, ast.Call) and _dotted(node.func) in ("__import__", "eval", "exec", "compile"):
            return f"line {node.lineno}: calls {_dotted(node.func)}"
    return ""
