"""The evaluator's rank stage: the learned cost model decides, before a candidate is timed, whether timing it is
worth a profile; a candidate it skips is still verified (correctness is never predicted), recorded `untimed` with
the prediction, and kept out of the population.

Resume: the model is rebuilt from the campaign's timed programs in the database, and an attempt that was in
flight when the run stopped is evaluated in full (ranking it again could only skip work, never lose a result).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from evolve.config import CostModelSection
from evolve.cost_model import SpeedupModel, candidate_features, timing_reason


@dataclass(frozen=True, slots=True)
class RankDecision:
    timed: bool
    reason: str
    predicted: float | None = None
    upper: float | None = None
    trained_on: int = 0

    def to_dict(self) -> dict:
        return {"timed": self.timed, "reason": self.reason, "predicted": self.predicted, "upper": self.upper,
                "trained_on": self.trained_on}


class RankStage:
    def __init__(self, section: CostModelSection, seed: int, shapes: dict | None = None):
        self.section, self.shapes = section, dict(shapes or {})
        self.model = SpeedupModel(seed, min_samples=section.min_samples)

    def train_from(self, rows: list[tuple[str, float | None, float]]) -> None:
        """(source, parent's speedup, speedup) rows, oldest first: the campaign's timed programs so far."""
        for source, parent_speedup, speedup in rows:
            self.model.add(self.features(source, parent_speedup), speedup)

    def features(self, source: str, parent_speedup: float | None) -> dict[str, float]:
        return candidate_features(source, parent_speedup, self.shapes)

    def decide(self, features: dict[str, float], best: float, rng: random.Random) -> RankDecision:
        prediction = self.model.predict(features)
        reason = timing_reason(prediction, best, rng, self.section.explore, self.section.within)
        trained = len(self.model.samples)
        if prediction is None:
            return RankDecision(True, reason or "", trained_on=trained)
        return RankDecision(reason is not None,
                            reason or f"its upper bound {prediction.upper:.3g} cannot reach the best {best:.3g}",
                            prediction.speedup, prediction.upper, trained)

    def learn(self, features: dict[str, float], speedup: float | None) -> None:
        if speedup:
            self.model.add(features, speedup)
