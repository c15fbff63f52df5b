"""The campaign's one typed config tree, loaded from TOML with `--set` overrides."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from evaluators.config import EvalConfig
from evolve.population import FeatureSpec, ObjectiveSpec
from evolve.sampling import STRATEGIES
from evolve.typed_config import ConfigError, apply_override, build
from kernelbench.problem import default_shape_set
from stark.agents.settings import AgentSettings


@dataclass(frozen=True, slots=True)
class CampaignSection:
    name: str
    problem: str
    seed_program: str
    database: str = ""
    seed: int = 0
    kernelbench_dir: str = ""
    shapes: str = ""
    build_cache: str = ""


@dataclass(frozen=True, slots=True)
class BudgetSection:
    """Stop at whichever runs out first; 0 means no limit of that kind."""

    iterations: int = 20
    wall_time_s: float = 0.0
    llm_tokens: int = 0
    usd: float = 0.0

    def __post_init__(self) -> None:
        for name in ("iterations", "wall_time_s", "llm_tokens", "usd"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (no limit) or positive, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class PipelineSection:
    proposals_in_flight: int = 2
    evaluators: int = 2
    repair_attempts: int = 1
    evaluator_gpus: float = -1.0
    evaluator_resource: str = ""
    llm_outage_s: float = 900.0
    """How long the campaign waits for an LLM endpoint that went down before it stops (resumable); 0: forever."""
    llm_probe_interval_s: float = 5.0

    def __post_init__(self) -> None:
        if self.proposals_in_flight < 1 or self.evaluators < 1:
            raise ValueError("proposals_in_flight and evaluators must be at least 1")
        if self.repair_attempts < 0 or self.llm_outage_s < 0 or self.llm_probe_interval_s <= 0:
            raise ValueError("repair_attempts and llm_outage_s must be >= 0, llm_probe_interval_s positive")

    def gpus_per_evaluator(self, backend: str) -> float:
        """-1 means: one GPU per evaluator on the cuda backend, none on the CPU."""
        if self.evaluator_gpus >= 0:
            return self.evaluator_gpus
        return 1.0 if backend == "cuda" else 0.0


@dataclass(frozen=True, slots=True)
class NoveltySection:
    """What happens to a proposal that repeats what the campaign already has.

    An exact twin (same normalized code as a program already evaluated, evolve/normalized_code.py) is never
    evaluated: it is recorded as a duplicate of the original.  With `similarity` > 0, a proposal sharing at
    least that fraction of its normalized tokens with its parent or a program on its island is a near-duplicate.
    Either is sent back for a new plan up to `replans` times per attempt; after that a twin ends the attempt
    unevaluated and a near-duplicate is evaluated after all (it is a new program, only a close one)."""

    similarity: float = 0.0
    replans: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.similarity <= 1.0:
            raise ValueError(f"similarity must be in [0, 1] (0 = no near-duplicate check), got {self.similarity}")
        if self.replans < 0:
            raise ValueError(f"replans must be 0 or more, got {self.replans}")


@dataclass(frozen=True, slots=True)
class EvolveSection:
    islands: int = 2
    island_capacity: int = 16
    migration_interval: int = 10
    sampler: str = "pareto_tournament"
    tournament_size: int = 3
    inspirations: int = 2
    epsilon_min: float = 0.1
    epsilon_max: float = 0.6
    patience: int = 8
    objectives: tuple[ObjectiveSpec, ...] = (ObjectiveSpec("speedup", "max"), ObjectiveSpec("code_size", "min"))
    features: tuple[FeatureSpec, ...] = (FeatureSpec("code_lines", (40.0, 80.0, 160.0)),)
    novelty: NoveltySection = field(default_factory=NoveltySection)

    def __post_init__(self) -> None:
        if self.sampler not in STRATEGIES:
            raise ValueError(f"unknown sampler {self.sampler!r}; choose one of {', '.join(STRATEGIES)}")
        if self.islands < 1 or self.island_capacity < 1:
            raise ValueError("islands and island_capacity must be at least 1")
        for objective in self.objectives:
            if objective.direction not in ("max", "min"):
                raise ValueError(f"objective {objective.name}: direction must be max or min")


@dataclass(frozen=True, slots=True)
class RemeasureSection:
    """Before a kernel is crowned, it is measured again in fresh processes with more repeats: a program that
    would become the campaign's best, or any speedup above `above_speedup`, only counts at its re-measured
    value (and a program that fails the second time is not admitted at all)."""

    enabled: bool = True
    above_speedup: float = 10.0
    repeats_factor: int = 3

    def __post_init__(self) -> None:
        if self.repeats_factor < 1 or self.above_speedup <= 0:
            raise ValueError("remeasure.repeats_factor must be at least 1 and remeasure.above_speedup positive")


@dataclass(frozen=True, slots=True)
class CostModelSection:
    """The evaluator's rank stage (evolve/cost_model.py), opt-in: once `min_samples` programs are timed, a
    candidate whose predicted upper bound cannot come within `within` of the best so far is only verified, not
    timed (status `untimed`, kept out of the population), except for an `explore` share of them, timed whatever
    the prediction so the model keeps seeing what it would skip."""

    enabled: bool = False
    explore: float = 0.2
    within: float = 0.05
    min_samples: int = 12
    history: int = 2000
    """The newest this many timed programs train the model when a campaign starts or resumes."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.explore <= 1.0 or self.within < 0:
            raise ValueError("cost_model.explore must be in [0, 1] and cost_model.within at least 0")
        if self.min_samples < 2 or self.history < self.min_samples:
            raise ValueError("cost_model.min_samples must be at least 2 and history at least min_samples")


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    campaign: CampaignSection
    budget: BudgetSection = field(default_factory=BudgetSection)
    pipeline: PipelineSection = field(default_factory=PipelineSection)
    evolve: EvolveSection = field(default_factory=EvolveSection)
    evaluator: EvalConfig = field(default_factory=lambda: EvalConfig(compare_compile=False))
    agents: AgentSettings = field(default_factory=AgentSettings)
    remeasure: RemeasureSection = field(default_factory=RemeasureSection)
    cost_model: CostModelSection = field(default_factory=CostModelSection)

    @property
    def shape_set(self) -> str:
        """As configured, else the backend's default."""
        return self.campaign.shapes or default_shape_set(self.evaluator.backend)


PATH_KEYS = (("campaign", "problem"), ("campaign", "seed_program"), ("campaign", "kernelbench_dir"), ("campaign", "build_cache"),
             ("agents", "response_cache"), ("agents", "planner", "prompt"), ("agents", "coder", "prompt"),
             ("agents", "reviewer", "prompt"))


def resolve_paths(data: dict, config_dir: Path) -> None:
    """Relative paths in a config mean relative to the config file, so a run starts the same from any
    directory.  A path that only exists relative to the working directory (configs written before this rule)
    is still taken from there."""
    for keys in PATH_KEYS:
        table = data
        for key in keys[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        value = table.get(keys[-1]) if isinstance(table, dict) else None
        if not isinstance(value, str) or not value or value == "run" or Path(value).is_absolute():
            continue
        if keys == ("campaign", "problem") and not value.endswith(".py"):
            continue                      # a problem id (level1/relu), not a file
        beside = (config_dir / value).resolve()
        table[keys[-1]] = str(beside if beside.exists() or not Path(value).exists() else Path(value).resolve())


def load_config(path: str | Path, overrides: list[str] = ()) -> CampaignConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    for assignment in overrides:
        apply_override(data, assignment)
    resolve_paths(data, path.resolve().parent)
    if "campaign" not in data:
        raise ConfigError(f"{path}: missing [campaign] table")
    return build(CampaignConfig, data)
