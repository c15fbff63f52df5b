"""The learned cost model: what it reads from a candidate, that it learns a speedup that depends on a tunable,
how sure it is, and when it says a candidate is not worth timing."""

import random

import pytest

from benchmarks.cost_model import replay
from evolve.cost_model import EXPLORE, MIN_SAMPLES, Prediction, SpeedupModel, candidate_features, worth_timing

SOURCE = """import torch
# EVOLVE-BLOCK-START
BLOCK = {block}  # range: 1..4096
LAYOUT = "{layout}"  # choices: row, col
USE_OUT = True
# EVOLVE-BLOCK-END
class ModelNew(torch.nn.Module):
    def forward(self, x):
        for i in range(0, x.shape[0], BLOCK):
            x[i:i + BLOCK] = x[i:i + BLOCK] * 2
        return x
"""


def program(block: int, layout: str = "row") -> str:
    return SOURCE.format(block=block, layout=layout)


def true_speedup(block: int, layout: str) -> float:
    """Best at 64, worse both ways; the column layout costs a fifth."""
    import math

    return 2.0 * math.exp(-((math.log2(block) - 6) ** 2) / 8) * (0.8 if layout == "col" else 1.0)


def test_features_read_tunables_code_and_lineage():
    features = candidate_features(program(64, "col"), parent_speedup=2.0)
    assert features["tunable:BLOCK"] == 6.0 and features["tunable:LAYOUT=col"] == 1.0
    assert features["tunable:USE_OUT"] == 1.0 and features["ast:For"] == 1.0
    assert features["parent_log_speedup"] == pytest.approx(0.693, abs=1e-3) and features["has_parent_speedup"] == 1.0
    with_build = candidate_features('FLAGS = ["-O3", "-march=native"]\nload_inline(extra_cflags=FLAGS)\n', None,
                                    shapes={"n": 256, "layout": "row"})
    assert with_build["code:flag_O3"] == 1.0 and with_build["code:flag_march_native"] == 1.0
    assert with_build["code:flag_fast_math"] == 0.0 and with_build["shape:n"] == 8.0 and "shape:layout" not in with_build
    assert candidate_features("def broken(:", None)["has_parent_speedup"] == 0.0, "unparsable code still has features"


def test_the_model_learns_a_speedup_that_depends_on_a_tunable():
    from scipy.stats import kendalltau

    rng = random.Random(0)
    model = SpeedupModel(seed=0)
    configs = [(2 ** rng.randint(0, 12), rng.choice(["row", "col"])) for _ in range(60)]
    assert model.predict(candidate_features(program(64), None)) is None, "no prediction before MIN_SAMPLES"
    for block, layout in configs[:40]:
        model.add(candidate_features(program(block, layout), None), true_speedup(block, layout) * rng.uniform(0.95, 1.05))
    assert model.ready and len(model.samples) >= MIN_SAMPLES
    held_out = configs[40:]
    predictions = [model.predict(candidate_features(program(b, layout), None)) for b, layout in held_out]
    tau = kendalltau([p.speedup for p in predictions], [true_speedup(b, layout) for b, layout in held_out]).statistic
    assert tau > 0.6, tau
    assert all(p.upper >= p.speedup > 0 for p in predictions)
    far = model.predict(candidate_features(program(4096), None))
    assert far.speedup < model.predict(candidate_features(program(64), None)).speedup


def test_what_is_worth_timing():
    rng = random.Random(1)
    sure_loser = Prediction(0.5, 0.6, 0.1)
    assert worth_timing(None, 1.0, rng) and worth_timing(sure_loser, None, rng), "no model or no best: time it"
    assert worth_timing(Prediction(0.9, 1.1, 0.1), 1.0, rng), "its upper bound reaches the best"
    timed = sum(worth_timing(sure_loser, 1.0, rng) for _ in range(2000))
    assert abs(timed / 2000 - EXPLORE) < 0.04, "the explore coin still times a fifth of the sure losers"


def test_replay_saves_profiling_and_keeps_the_best():
    rng = random.Random(2)
    programs, parent = [], None
    for k in range(150):
        block, layout = 2 ** rng.randint(0, 12), rng.choice(["row", "col"])
        programs.append({"id": k + 1, "parent": parent, "source": program(block, layout),
                         "speedup": true_speedup(block, layout), "seconds": 1.0})
        parent = k + 1
    outcome = replay(programs, seed=0, explore=0.2)
    assert outcome["tau"] > 0.5 and outcome["seconds"] < 0.8 and outcome["kept_best"], outcome
