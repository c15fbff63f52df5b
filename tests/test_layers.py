"""The code is built in floors, and the command line is the top one: each module imports only from its own floor
or below, and no chain of imports comes back to where it started (lazy imports inside functions included: they
are dependencies too).  The project's shape puts the agents and the CLI in one package (`stark/`) with the campaign
loop in another (`evolve/`), so the floors are sets of modules, not packages:

    4  stark.cli, stark.render, stark.show      the command line and what only it draws
    3  evolve                                   program database, population, campaign loop, sweeps, viewer
    2  stark.agents                             planner, coder, reviewer (Ray actors) and their prompts
    1  stark.llm, stark.edits                   OpenAI-compatible clients; reading edits, diffs, normal forms
    0  evaluators, kernelbench                  the judge and the problems
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

from tests.conftest import REPO

FLOORS = {
    "kernelbench": 0, "evaluators": 0,
    "stark.llm": 1, "stark.edits": 1,
    "stark.agents": 2,
    "evolve": 3,
    "stark.cli": 4, "stark.render": 4, "stark.show": 4, "stark": 4,
}
PACKAGES = ("kernelbench", "evaluators", "stark", "evolve")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def floor(module: str) -> int:
    for prefix in sorted(FLOORS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return FLOORS[prefix]
    raise AssertionError(f"{module} is on no floor: add it to FLOORS")


def imports_of(path: Path, module: str) -> set[str]:
    """Every name an import statement reaches: `from a.b import c` gives `a.b.c` (a module, or an attribute of
    the module `a.b`; the graph tells which)."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for package in PACKAGES for p in (REPO / package).rglob("*.py")}
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imports_of(path, module):
            while name and name not in modules:        # an attribute: its module
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def test_every_import_goes_to_the_same_floor_or_below():
    upward = sorted(f"{module} (floor {floor(module)}) imports {target} (floor {floor(target)})"
                    for module, targets in import_graph().items() for target in targets
                    if floor(target) > floor(module))
    assert not upward, "\n".join(upward)


def test_nothing_imports_the_command_line():
    graph = import_graph()
    users = sorted(m for m, targets in graph.items() if "stark.cli" in targets and m != "stark.cli")
    assert not users, users


def test_no_import_cycles_between_modules():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        pytest.fail("import cycle: " + " -> ".join(exc.args[1]))
