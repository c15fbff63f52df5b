"""The offline mutator: a real, non-LLM search operator behind the same planner/coder/reviewer roles.

It is not an LLM and invents no new algorithms.  The planner finds the tunable constants of the evolvable
regions (module-level UPPER_CASE assignments of numbers, booleans or strings, optionally annotated
`# range: LO..HI` or `# choices: a, b, c`) in the syntax tree and picks, from a seeded RNG, one or two
moves: scale a power of two by 2 or 1/2, step an integer or float, flip a boolean, switch a choice, or
cross a value over from an inspiration program.  It writes them as grounded instructions citing lines;
the coder turns those into SEARCH/REPLACE edits applied by the same code path as a model's edits; the
reviewer screens statically and does not repair.
"""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass

from stark.agents.records import CodeRequest, Plan, PlanRequest, Proposal, RepairRequest, Verdict
from stark.agents.screening import screen
from stark.edits import EditError, apply_edit, changeable_lines

_INSTRUCTION = re.compile(r"^\[L(\d+)\] set (\w+) = (.+)$")
_RANGE = re.compile(r"#\s*range:\s*(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)")
_CHOICES = re.compile(r"#\s*choices:\s*(.+)$")


@dataclass(frozen=True, slots=True)
class Tunable:
    name: str
    line: int
    value: object
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


def tunables(source: str) -> list[Tunable]:
    """Module-level constant assignments inside the evolvable regions."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines()
    changeable = changeable_lines(source)
    found = []
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name = node.targets[0].id
        if not (name.isupper() and isinstance(node.value, ast.Constant)):
            continue
        if node.lineno not in changeable:
            continue
        text = lines[node.lineno - 1]
        low = high = None
        if match := _RANGE.search(text):
            low, high = float(match.group(1)), float(match.group(2))
        choices = tuple(c.strip() for c in _CHOICES.search(text).group(1).split(",")) if _CHOICES.search(text) else ()
        found.append(Tunable(name, node.lineno, node.value.value, low, high, choices))
    return found


def _clamp(value, tunable: Tunable):
    if tunable.low is not None:
        value = max(value, type(value)(tunable.low))
    if tunable.high is not None:
        value = min(value, type(value)(tunable.high))
    return value


def mutate_value(tunable: Tunable, rng: random.Random):
    value = tunable.value
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        if value > 0 and value & (value - 1) == 0:
            return _clamp(max(1, value * 2 if rng.random() < 0.5 else value // 2), tunable)
        step = max(1, round(abs(value) * 0.25))
        return _clamp(value + rng.choice((-step, step)), tunable)
    if isinstance(value, float):
        if value == 0.0:
            return _clamp(rng.choice((-1.0, 1.0)) * 10.0 ** rng.randint(-2, 1), tunable)
        if rng.random() < 0.1:
            return 0.0
        return _clamp(value * rng.choice((0.5, 0.8, 1.25, 2.0)), tunable)
    if isinstance(value, str) and len(tunable.choices) > 1:
        return rng.choice([c for c in tunable.choices if c != value])
    return value


def _moves(request: PlanRequest, rng: random.Random) -> list[tuple[Tunable, object, str]]:
    mine = tunables(request.parent.source)
    if not mine:
        return []
    donors = [(v.id, {t.name: t.value for t in tunables(v.source)}) for v in request.inspirations]
    moves = []
    for _ in range(1 if rng.random() < 0.6 else 2):
        tunable = rng.choice(mine)
        crossover = [(pid, values[tunable.name]) for pid, values in donors
                     if values.get(tunable.name, tunable.value) != tunable.value]
        if crossover and rng.random() < 0.3:
            donor, value = rng.choice(crossover)
            moves.append((tunable, value, f"take {tunable.name} from #{donor}"))
        else:
            value = mutate_value(tunable, rng)
            moves.append((tunable, value, f"tune {tunable.name}"))
    return [m for m in moves if m[1] != m[0].value]


class OfflinePlanner:
    """Chooses moves that differ from what this parent's children already tried."""

    def __init__(self, tries: int = 12):
        self.tries = tries

    def plan(self, request: PlanRequest) -> Plan:
        rng = random.Random(request.seed)
        tried = {s.strategy for s in request.siblings}
        for _ in range(self.tries):
            moves = {m[0].name: m for m in _moves(request, rng)}.values()
            if not moves:
                continue
            strategy = "; ".join(f"{why}: {t.value!r} -> {v!r}" for t, v, why in moves)
            if strategy not in tried:
                instructions = "\n".join(f"[L{t.line}] set {t.name} = {v!r}" for t, v, _ in moves)
                return Plan(strategy, instructions)
        return Plan("", "", error="offline planner found no untried move (no tunable constants in the EVOLVE-BLOCK?)")


class OfflineCoder:
    def code(self, request: CodeRequest) -> Proposal:
        lines = request.parent.source.splitlines()
        edits = []
        for instruction in request.plan.instructions.splitlines():
            match = _INSTRUCTION.match(instruction.strip())
            if not match or not 1 <= int(match.group(1)) <= len(lines):
                return Proposal(None, request.plan.instructions, error=f"cannot follow instruction {instruction!r}")
            old = lines[int(match.group(1)) - 1]
            head, _, comment = old.partition("#")
            new = re.sub(rf"^(\s*{match.group(2)}\s*=\s*).*?(\s*)$", rf"\g<1>{match.group(3)}\g<2>", head.rstrip())
            edits.append(f"<<<<<<< SEARCH\n{old}\n=======\n{new}{'  #' + comment if comment else ''}\n>>>>>>> REPLACE")
        response = "\n".join(edits)
        try:
            return Proposal(apply_edit(request.parent.source, response).child, response)
        except EditError as exc:
            return Proposal(None, response, error=f"edit rejected: {exc}")


class OfflineReviewer:
    def __init__(self, forbidden_calls: tuple[str, ...] = (), entry_points: tuple[str, ...] = ("ModelNew",)):
        self.forbidden_calls, self.entry_points = forbidden_calls, entry_points

    def screen(self, source: str) -> Verdict:
        problem = screen(source, self.forbidden_calls, self.entry_points)
        return Verdict(not problem, problem)

    def repair(self, request: RepairRequest) -> Proposal:
        return Proposal(None, "", error="the offline reviewer does not repair programs")
