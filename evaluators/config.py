"""What to evaluate and how strictly: the request a worker process receives."""

from __future__ import annotations

from dataclasses import dataclass, field

from kernelbench.problem import ProblemRef

BACKENDS = ("cpu", "cuda")

DEFAULT_TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-7),
    "float32": (1e-3, 1e-3),
    "float16": (1e-2, 1e-2),
    "bfloat16": (2e-2, 2e-2),
}
"""(atol, rtol) per output dtype; integer and bool outputs must match exactly."""


@dataclass(frozen=True, slots=True)
class StageTimeouts:
    """Wall-clock seconds per stage; a C++ build dominates compile, torch.compile dominates profile."""

    compile: float = 300.0
    verify: float = 120.0
    profile: float = 300.0

    def for_stage(self, stage: str) -> float:
        return float(getattr(self, stage))


@dataclass(frozen=True, slots=True)
class EvalConfig:
    backend: str = "cpu"
    trials: int = 3
    seed: int = 0
    warmup: int = 3
    repeats: int = 20
    input_sets: int = 4
    threads: int = 1
    compare_compile: bool = True
    profile: bool = True
    memory_limit_gb: float = 8.0
    cpu_seconds_per_job: int = 900
    forbidden_ops: tuple[str, ...] = ()
    second_shape_set: bool = True
    sandbox: bool = True
    file_size_limit_mb: int = 2048
    hidden_paths: tuple[str, ...] = ()
    timeouts: StageTimeouts = field(default_factory=StageTimeouts)
    tolerances: tuple[tuple[str, float, float], ...] = tuple((k, a, r) for k, (a, r) in DEFAULT_TOLERANCES.items())

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        for name in ("trials", "repeats", "input_sets", "threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")

    def tolerance(self, dtype_name: str) -> tuple[float, float]:
        for name, atol, rtol in self.tolerances:
            if name == dtype_name:
                return atol, rtol
        return 0.0, 0.0


@dataclass(frozen=True, slots=True)
class EvalRequest:
    problem: ProblemRef
    candidate_source: str
    config: EvalConfig = field(default_factory=EvalConfig)
    build_cache_dir: str = ""
