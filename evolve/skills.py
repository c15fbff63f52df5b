"""A skill library: named, reusable optimization skills, learned from what improved programs in every campaign of
a database, and offered to the planner on similar problems.

A skill is recognized in a program's strategy (what the planner or the mutator named) and, for a program that
improved on its parent, in the lines its diff added (the code that did it).  Nothing new is stored: each skill's
record is read from the programs table (strategy, diff, scores, lineage) of all campaigns in the database, so it
works on every run ever recorded and needs no schema change.  A try is a program whose strategy names the skill;
a win is a correct program scoring above its correct parent, credited to the skills its strategy or its added
lines show (a win found only in the code counts as a try too).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from evolve.records import Status

SKILLS: dict[str, tuple[str, str]] = {
    # name: (what it is, pattern over the strategy and, for wins, the diff's added lines)
    "tiling for cache": ("work on blocks that fit the cache", r"\btil(e|es|ed|ing)\b|block[_ ]?size|\bBLOCK_\w+|"
                                                             r"ROWS_PER_BLOCK|cache[- ]block"),
    "vectorizing the inner loop": ("SIMD over the innermost loop", r"vectori[sz]|\bsimd\b|_mm256|_mm512|__m256|__m512"),
    "operator fusion": ("one pass instead of several kernels", r"\bfus(e|ed|es|ing|ion)\b|single pass|one pass"),
    "loop reordering": ("change the loop nest order for locality", r"reorder|interchang|loop order|swap the loops"),
    "parallel threads": ("spread the work over threads", r"omp parallel|\bprange\b|parallel for|num_threads"),
    "memory layout": ("store data in the order it is read", r"channels[_ ]last|contiguous|\btranspos|\blayout\b"),
    "loop unrolling": ("fewer loop iterations, more work each", r"\bunroll"),
    "online softmax": ("one pass with a running max and sum", r"online softmax|running max|running sum"),
    "split-K": ("split the reduction dimension across workers", r"split[-_ ]?k\b"),
    "writing into the output": ("no temporaries: write results in place", r"WRITE_INTO_OUTPUT|\bout=|in[- ]place"),
}
_PATTERNS = {name: re.compile(pattern, re.IGNORECASE) for name, (_, pattern) in SKILLS.items()}
OFFERED = 5
"""Skills the planner is shown at most."""


def skills_in(text: str) -> set[str]:
    return {name for name, pattern in _PATTERNS.items() if pattern.search(text or "")}


@functools.lru_cache(maxsize=4096)
def _named_in(strategy: str) -> frozenset[str]:
    """Strategies repeat (the mutator's few, a model's favourite phrasings): each is searched once."""
    return frozenset(skills_in(strategy))


def credited(strategy: str, improved: bool, diff: str) -> frozenset[str]:
    """The skills one program counts for: named in its strategy, or (a win) shown in the lines it added."""
    named = _named_in(strategy or "")
    return named | skills_in(added_lines(diff)) if improved else named


def added_lines(diff: str) -> str:
    return "\n".join(line[1:] for line in (diff or "").splitlines() if line.startswith("+") and not line.startswith("+++"))


@dataclass
class SkillRecord:
    name: str
    tries: int = 0
    wins: int = 0
    problems: dict[str, int] = field(default_factory=dict)
    """Problem id → wins there."""

    @property
    def win_rate(self) -> float:
        return self.wins / self.tries if self.tries else 0.0

    def as_dict(self) -> dict:
        return {"skill": self.name, "description": SKILLS[self.name][0], "tries": self.tries, "wins": self.wins,
                "win_rate": self.win_rate, "problems": dict(sorted(self.problems.items(), key=lambda kv: -kv[1]))}


def tally(evidence) -> dict[str, SkillRecord]:
    """`evidence`: (problem id, strategy, improved, diff of an improving program or "") per program."""
    records = {name: SkillRecord(name) for name in SKILLS}
    for problem_id, strategy, improved, diff in evidence:
        _count(records, problem_id, credited(strategy, improved, diff), improved, 1)
    return {name: r for name, r in records.items() if r.tries}


def _count(records: dict[str, SkillRecord], problem_id: str, names: Iterable[str], improved: bool, sign: int) -> None:
    for name in names:
        record = records[name]
        record.tries += sign
        if improved:
            record.wins += sign
            left = record.problems.get(problem_id, 0) + sign
            if left:
                record.problems[problem_id] = left
            else:
                record.problems.pop(problem_id, None)


class SkillTally:
    """`tally` over the newest `window` programs that have their verdict, kept up to date: each read takes only
    the programs from the oldest one still awaiting its verdict on (the newest few, normally), where reading the
    whole window again cost a campaign ~0.2 ms an attempt at 10k programs and ~1 ms at 50k
    (benchmarks/campaign_overhead.py).  A program awaiting its verdict is counted once it has one: whether it
    improved on its parent is not known before."""

    def __init__(self, window: int = 50_000):
        self.window = window
        self.records = {name: SkillRecord(name) for name in SKILLS}
        self.counted: dict[int, tuple[str, frozenset[str], bool]] = {}
        self.since = 0

    def read(self, store) -> dict[str, SkillRecord]:
        rows = store.skill_rows(self.since, self.window)
        waiting = []
        for pid, status, problem_id, strategy, improved, diff in rows:
            if status == Status.PROPOSED:
                waiting.append(pid)
            elif pid not in self.counted:
                names = credited(strategy, improved, diff)
                self.counted[pid] = (problem_id, names, improved)
                _count(self.records, problem_id, names, improved, 1)
        if len(self.counted) > self.window:
            for pid in sorted(self.counted)[:len(self.counted) - self.window]:
                _count(self.records, *self.counted.pop(pid), -1)
        oldest = min(self.counted, default=0)
        waiting = [pid for pid in waiting if pid >= oldest]    # one left waiting past the window holds nothing up
        self.since = min(waiting) if waiting else (rows[-1][0] + 1 if rows else self.since)
        return {name: r for name, r in self.records.items() if r.tries}


def family(problem_id: str) -> set[str]:
    """The words of a problem's name that say what it computes (`level1/matmul_square` → {matmul, square})."""
    name = problem_id.rsplit("/", 1)[-1]
    return {w for w in re.split(r"[_\W\d]+", name.lower()) if len(w) > 2} - {"with", "and", "the", "for"}


def similarity(problem_id: str, other: str) -> float:
    if problem_id == other:
        return 3.0
    shared = family(problem_id) & family(other)
    return 2.0 if shared else 1.0


def offered(records: dict[str, SkillRecord], problem_id: str, most: int = OFFERED) -> list[SkillRecord]:
    """Skills with wins, the ones that won on this problem or similar ones first."""
    def weight(record: SkillRecord) -> float:
        return sum(similarity(problem_id, other) * wins for other, wins in record.problems.items()) \
            + record.win_rate
    return sorted((r for r in records.values() if r.wins), key=weight, reverse=True)[:most]


def planner_text(records: dict[str, SkillRecord], problem_id: str) -> str:
    lines = []
    for record in offered(records, problem_id):
        where = ", ".join(list(record.problems)[:3])
        lines.append(f"- {record.name} ({SKILLS[record.name][0]}): improved {record.wins} of {record.tries} tries; "
                     f"won on {where}")
    return "\n".join(lines)


class SkillOffer:
    """The planner's skills for one campaign: read from the database at the first plan and again every REFRESH
    attempts (a scan of the newest programs' strategies: too much for every attempt, and skills change slowly)."""

    REFRESH = 200

    def __init__(self, store, problem_id: str, enabled: bool = True):
        self.store, self.problem_id, self.enabled = store, problem_id, enabled
        self.read_at: int | None = None
        self.cached = ""
        self.tally = SkillTally()

    def text(self, attempt: int) -> str:
        if not self.enabled:
            return ""
        if self.read_at is None or attempt - self.read_at >= self.REFRESH:
            self.cached = planner_text(self.tally.read(self.store), self.problem_id)
            self.read_at = attempt
        return self.cached
