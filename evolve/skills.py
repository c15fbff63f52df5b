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

import re
from dataclasses import dataclass, field

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
        named = skills_in(strategy)
        credited = named | (skills_in(added_lines(diff)) if improved else set())
        for name in credited:
            record = records[name]
            record.tries += 1
            if improved:
                record.wins += 1
                record.problems[problem_id] = record.problems.get(problem_id, 0) + 1
    return {name: r for name, r in records.items() if r.tries}


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

    def text(self, attempt: int) -> str:
        if not self.enabled:
            return ""
        if self.read_at is None or attempt - self.read_at >= self.REFRESH:
            self.cached = planner_text(tally(self.store.skill_evidence()), self.problem_id)
            self.read_at = attempt
        return self.cached
