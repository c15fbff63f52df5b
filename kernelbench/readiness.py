"""Whether a problem file can run on this machine, read from its source without running it.

Running a problem to find out is not an option for a listing: a KernelBench level-4 file downloads a model
configuration from the Hugging Face hub when imported.  So the checks are static: modules it imports that are
not installed, downloads at import, inputs made on the GPU."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

PIP_NAMES = {"sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "pillow", "yaml": "pyyaml"}
"""Where a module's pip package has another name."""


def missing_modules(tree: ast.Module) -> list[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return sorted(n for n in names if n not in sys.stdlib_module_names and importlib.util.find_spec(n) is None)


def blockers(path: str | Path, has_gpu: bool = False) -> list[str]:
    """Why the problem cannot run here, one short phrase each; empty when nothing is known to stop it."""
    source = Path(path).read_text()
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"does not parse (line {exc.lineno}: {exc.msg})"]
    found = [f"needs {name} (pip install {PIP_NAMES.get(name, name)})" for name in missing_modules(tree)]
    if "from_pretrained(" in source:
        found.append("downloads from the Hugging Face hub when imported")
    inputs = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_inputs"), None)
    if not has_gpu and inputs is not None and (".cuda()" in ast.unparse(inputs) or "'cuda'" in ast.unparse(inputs)):
        found.append("makes its inputs on a GPU")
    return found
