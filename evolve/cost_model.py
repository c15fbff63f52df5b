"""A learned cost model: predicts a candidate's speedup, with its uncertainty, before it is timed.

Profiling is the scarce resource of a campaign (every timed round is seconds of a core), and most candidates of
a long search are not better than what it has.  The model is trained online on the campaign's own measurements
(a random forest from scikit-learn: the spread of its trees' predictions is the uncertainty) over features of
the candidate (its tunables, the shape of its code) and of its lineage (its parent's measured speedup), and a
candidate is worth timing when its predicted upper bound could reach the best so far — or when a coin says so,
a fixed share of the time, so the model keeps seeing the candidates it would skip and stays honest.

`benchmarks/cost_model.py` replays recorded campaigns through it: rank correlation of predictions with
measurements, and the profiling time it would have saved at an equal final best.
"""

from __future__ import annotations

import ast
import math
import random
import re
from dataclasses import dataclass

from stark.agents.offline import tunables

MIN_SAMPLES = 12
"""Measurements before the model predicts at all: until then every candidate is timed."""
UPPER_Z = 1.64
"""The upper bound is the mean plus this many standard deviations of the trees (one-sided 95%)."""
EXPLORE = 0.2
"""Share of candidates timed whatever the model says."""
WITHIN = 0.05
"""A candidate whose upper bound comes within this much of the best is timed: two measurements of one program
differ by about this much (the judge's 95% intervals), so the model cannot tell them apart either.  Replayed on a
200-attempt matmul campaign, 0 kept the final best in 1 of 5 coin seeds, 0.05 in 5 of 5 (benchmarks/cost_model.py)."""
_CODE_MARKS = {"pragma_omp": r"#pragma omp", "simd": r"\bsimd\b|_mm256|_mm512", "load_inline": r"load_inline",
               "triton_jit": r"@triton\.jit", "torch_compile": r"torch\.compile", "contiguous": r"\.contiguous\(",
               "channels_last": r"channels_last", "out_arg": r"\bout=",
               # build metadata: what the compiler is asked for, read from the source before anything is built
               "flag_O3": r"-O3\b", "flag_fast_math": r"-ffast-math", "flag_march_native": r"-march=native",
               "flag_unroll": r"-funroll-loops", "cuda_sources": r"cuda_sources\s*="}


def candidate_features(source: str, parent_speedup: float | None, shapes: dict | None = None) -> dict[str, float]:
    """What the model reads: tunables by name, counts of the code's constructs and build flags, the parent's
    speedup, and the problem's sizes (constant within one campaign; they tell problems apart when one model is
    trained on several, as a shared database allows)."""
    features: dict[str, float] = {"code_bytes": float(len(source.encode())),
                                  "parent_log_speedup": math.log(parent_speedup) if parent_speedup else 0.0,
                                  "has_parent_speedup": float(bool(parent_speedup))}
    for name, value in (shapes or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            features[f"shape:{name}"] = math.log2(value)
    for tunable in tunables(source):
        value = tunable.value
        if isinstance(value, bool):
            features[f"tunable:{tunable.name}"] = float(value)
        elif isinstance(value, (int, float)):
            features[f"tunable:{tunable.name}"] = math.log2(value) if value > 0 else float(value)
        elif isinstance(value, str):
            features[f"tunable:{tunable.name}={value}"] = 1.0
    for name, pattern in _CODE_MARKS.items():
        features[f"code:{name}"] = float(len(re.findall(pattern, source)))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return features
    for node in ast.walk(tree):
        kind = type(node).__name__
        if kind in ("For", "While", "Call", "BinOp", "Subscript", "FunctionDef", "ListComp", "With", "If"):
            features[f"ast:{kind}"] = features.get(f"ast:{kind}", 0.0) + 1.0
    return features


@dataclass(frozen=True, slots=True)
class Prediction:
    speedup: float
    upper: float
    """The one-sided 95% upper bound of the speedup."""
    spread: float
    """Standard deviation of the trees' predictions, in log speedup."""


class SpeedupModel:
    """Trained on (features, measured speedup) pairs as they come; refits when enough new ones have arrived."""

    def __init__(self, seed: int = 0, refit_every: int = 4, min_samples: int = MIN_SAMPLES):
        self.seed, self.refit_every, self.min_samples = seed, refit_every, min_samples
        self.samples: list[tuple[dict[str, float], float]] = []
        self.fitted_on = 0
        self.vectorizer = self.forest = None

    def add(self, features: dict[str, float], speedup: float) -> None:
        if speedup > 0:
            self.samples.append((features, math.log(speedup)))

    @property
    def ready(self) -> bool:
        return len(self.samples) >= self.min_samples

    def _fit(self) -> None:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.feature_extraction import DictVectorizer

        self.vectorizer = DictVectorizer(sparse=False)
        x = self.vectorizer.fit_transform([f for f, _ in self.samples])
        self.forest = RandomForestRegressor(n_estimators=60, min_samples_leaf=2, random_state=self.seed, n_jobs=1)
        self.forest.fit(x, [y for _, y in self.samples])
        self.fitted_on = len(self.samples)

    def predict(self, features: dict[str, float]) -> Prediction | None:
        if not self.ready:
            return None
        if self.forest is None or len(self.samples) - self.fitted_on >= self.refit_every:
            self._fit()
        import numpy as np

        x = self.vectorizer.transform([features])
        per_tree = np.array([tree.predict(x)[0] for tree in self.forest.estimators_])
        mean, spread = float(per_tree.mean()), float(per_tree.std())
        return Prediction(math.exp(mean), math.exp(mean + UPPER_Z * spread), spread)


def timing_reason(prediction: Prediction | None, best: float | None, rng: random.Random,
                  explore: float = EXPLORE, within: float = WITHIN) -> str | None:
    """Why the candidate is timed, or None when the model is sure it cannot reach the best so far (and the coin
    did not pick it)."""
    if prediction is None or not best:
        return "the model is still learning"
    if prediction.upper >= best * (1 - within):
        return f"its upper bound {prediction.upper:.3g} reaches the best {best:.3g}"
    if rng.random() < explore:
        return "the explore share"
    return None


def worth_timing(prediction: Prediction | None, best: float | None, rng: random.Random,
                 explore: float = EXPLORE, within: float = WITHIN) -> bool:
    """Time it unless the model is sure it cannot reach the best so far (and the coin did not pick it)."""
    return timing_reason(prediction, best, rng, explore, within) is not None
