"""Plain records that cross the worker-process and Ray-actor boundaries, with a JSON round trip."""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Any


class Stage(enum.StrEnum):
    COMPILE = "compile"
    VERIFY = "verify"
    PROFILE = "profile"


class FailureKind(enum.StrEnum):
    """Why a candidate failed; a failed candidate is data, never an exception in the caller."""

    IMPORT_ERROR = "import_error"
    BUILD_ERROR = "build_error"
    NO_MODEL_NEW = "no_model_new"
    NO_ENTRY_POINT = "no_entry_point"
    BAD_METRICS = "bad_metrics"
    INIT_ERROR = "init_error"
    RUNTIME_ERROR = "runtime_error"
    OUTPUT_STRUCTURE = "output_structure"
    SHAPE_MISMATCH = "shape_mismatch"
    DTYPE_MISMATCH = "dtype_mismatch"
    NONFINITE = "nonfinite"
    MISMATCH = "mismatch"
    TIMEOUT = "timeout"
    CRASH = "crash"
    OUT_OF_MEMORY = "out_of_memory"
    CUDA_ERROR = "cuda_error"
    INPUT_MUTATION = "input_mutation"
    OUTPUT_ALIASES_INPUT = "output_aliases_input"
    OUTPUT_ALIASES_REFERENCE = "output_aliases_reference"
    RESULT_CACHING = "result_caching"
    DEFERRED_WORK = "deferred_work"
    CALLS_REFERENCE = "calls_reference"
    FORBIDDEN_OP = "forbidden_op"
    TAMPERING = "tampering"
    SANDBOX_VIOLATION = "sandbox_violation"
    FASTER_THAN_POSSIBLE = "faster_than_possible"
    """Timed faster than moving its inputs, weights and outputs allows on this machine (evaluators/roofline.py)."""
    REFERENCE_ERROR = "reference_error"
    """The problem's own code (its Model, get_inputs, imports) failed: the candidate could not be judged."""


KILLING_KINDS = frozenset({FailureKind.TIMEOUT, FailureKind.CRASH, FailureKind.OUT_OF_MEMORY, FailureKind.CUDA_ERROR,
                           FailureKind.SANDBOX_VIOLATION, FailureKind.DEFERRED_WORK, FailureKind.TAMPERING,
                           FailureKind.CALLS_REFERENCE})
"""Kinds after which the worker process is not trusted again (dead, patched, or with the candidate's
threads or children still running) and gets replaced."""


@dataclass(frozen=True, slots=True)
class Failure:
    stage: Stage
    kind: FailureKind
    message: str
    output_tail: str = ""
    blame: str = "candidate"
    """Whose code failed: "candidate", or "reference" (the problem's own code, or the reference process running
    out of memory or time) — a reference failure says nothing about the candidate and is never charged to it."""

    @property
    def charged_to_candidate(self) -> bool:
        return self.blame == "candidate"


@dataclass(frozen=True, slots=True)
class TimingStats:
    """Per-call wall times of one module, in microseconds."""

    median_us: float
    iqr_us: float
    min_us: float
    mean_us: float
    runs: int


@dataclass(frozen=True, slots=True)
class StageReport:
    stage: Stage
    ok: bool
    seconds: float


@dataclass(frozen=True, slots=True)
class VerifyReport:
    trial_seeds: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    atol: float
    rtol: float
    second_shape_set: str = ""


@dataclass(frozen=True, slots=True)
class ProfileReport:
    candidate: TimingStats
    reference: TimingStats
    compiled: TimingStats | None
    compiled_note: str
    threads: int
    input_sets: int
    null_us: float = 0.0
    """The judge's calibrated round trip (wake-up, message, output copy), subtracted from every sample."""
    speedup_ci: tuple[float, float] | None = None
    """95% bootstrap interval of the speedup over eager (ratio of medians, over the interleaved rounds).  Always
    of medians, also when the point value is KernelBench's ratio of means: it decides whether a program is
    really faster (fast_p), and a mean is hostage to a single stalled call."""
    checked_calls: int = 0
    """Timed calls whose outputs were compared with the reference's (all of them)."""
    statistic: str = "median"
    """What a speedup is a ratio of: medians (stark), or means (KernelBench's harness)."""
    l2_flushed: bool = False
    """Whether the GPU's L2 cache was overwritten (untimed) before every timed call, as KernelBench's harness does."""
    roofline: dict | None = None
    """The candidate's time against the machine's limit (evaluators/roofline.py: RooflineReport.to_dict())."""
    candidate_faults_per_call: float | None = None
    """Page faults per timed round of each side's process (None where the judge cannot read them): memory handed
    back to the system and faulted in afresh on every call costs time that has nothing to do with the kernel."""
    reference_faults_per_call: float | None = None
    clock: str = ""
    """Where the judge's clock stopped: the host round trip (the runner's copy into shared memory, CPU), or on a
    GPU the judge's own device copy of the outputs (CUDA IPC), with why not where that was unavailable."""

    def center(self, stats: TimingStats) -> float:
        return stats.mean_us if self.statistic == "mean" else stats.median_us

    @property
    def speedup_vs_eager(self) -> float:
        return self.center(self.reference) / self.center(self.candidate)

    @property
    def speedup_vs_compile(self) -> float | None:
        return None if self.compiled is None else self.center(self.compiled) / self.center(self.candidate)


@dataclass(frozen=True, slots=True)
class EvalResult:
    problem: str
    backend: str
    shape_set: str
    stages: tuple[StageReport, ...]
    failure: Failure | None
    verify: VerifyReport | None = None
    profile: ProfileReport | None = None
    environment: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    holdout_metrics: dict[str, float] = field(default_factory=dict)
    shapes: str = ""
    """The sizes it ran at: the file's own, its CPU_SHAPES, or what the CPU scaling policy chose."""

    @property
    def passed(self) -> bool:
        return self.failure is None

    @property
    def speedup_vs_eager(self) -> float | None:
        return None if self.profile is None else self.profile.speedup_vs_eager

    @property
    def speedup_vs_compile(self) -> float | None:
        return None if self.profile is None else self.profile.speedup_vs_compile

    def to_dict(self) -> dict[str, Any]:
        data = plain_data(self)
        data["passed"] = self.passed
        data["speedup_vs_eager"] = self.speedup_vs_eager
        data["speedup_vs_compile"] = self.speedup_vs_compile
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalResult:
        failure = data.get("failure")
        verify = data.get("verify")
        profile = data.get("profile")
        return cls(
            problem=data["problem"],
            backend=data["backend"],
            shape_set=data["shape_set"],
            stages=tuple(StageReport(Stage(s["stage"]), s["ok"], s["seconds"]) for s in data["stages"]),
            failure=None if failure is None else _failure_from_dict(failure),
            verify=None if verify is None else VerifyReport(**{**verify, "trial_seeds": tuple(verify["trial_seeds"])}),
            profile=None if profile is None else _profile_from_dict(profile),
            environment=dict(data.get("environment", {})),
            metrics=dict(data.get("metrics", {})),
            holdout_metrics=dict(data.get("holdout_metrics", {})),
            shapes=data.get("shapes", ""),
        )

    @classmethod
    def from_json(cls, text: str) -> EvalResult:
        return cls.from_dict(json.loads(text))


def _failure_from_dict(data: dict[str, Any]) -> Failure:
    return Failure(Stage(data["stage"]), FailureKind(data["kind"]), data["message"], data.get("output_tail", ""),
                   data.get("blame", "candidate"))


def _profile_from_dict(data: dict[str, Any]) -> ProfileReport:
    compiled = data.get("compiled")
    return ProfileReport(
        candidate=TimingStats(**data["candidate"]),
        reference=TimingStats(**data["reference"]),
        compiled=None if compiled is None else TimingStats(**compiled),
        compiled_note=data["compiled_note"],
        threads=data["threads"],
        input_sets=data["input_sets"],
        null_us=float(data.get("null_us", 0.0)),
        speedup_ci=tuple(data["speedup_ci"]) if data.get("speedup_ci") else None,
        checked_calls=int(data.get("checked_calls", 0)),
        statistic=data.get("statistic", "median"),
        l2_flushed=bool(data.get("l2_flushed", False)),
        roofline=data.get("roofline"),
        candidate_faults_per_call=data.get("candidate_faults_per_call"),
        reference_faults_per_call=data.get("reference_faults_per_call"),
        clock=str(data.get("clock", "")),
    )


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain_data(value: Any) -> Any:
    """`dataclasses.asdict` without its deep copy of every leaf: a campaign converts each verdict once per
    attempt, and asdict's copying was a twentieth of the loop's CPU.  Containers are rebuilt (the caller may
    change them), leaves (numbers, strings, enums) are shared (immutable)."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and dataclasses.is_dataclass(kind):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    if names is not None:
        return {name: plain_data(getattr(value, name)) for name in names}
    if kind is list or kind is tuple:
        return kind(plain_data(item) for item in value)
    if kind is dict:
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    return copy.deepcopy(value)       # anything else, copied as asdict would


_LEAVES = frozenset({int, float, str, bool, type(None), Stage, FailureKind})
