"""The unrelated-machines scheduling simulator by hand, and its baselines in the order theory predicts."""

import pytest

from kernelbench.discovery import load_discovery_problem

sched = load_discovery_problem("speed_prediction_scheduling")


def test_smiths_rule_by_hand():
    # ratios 2/1 = 2 and 1/2 = 0.5: the heavy short job goes first: 2*1 + 1*(1+2) = 5
    assert sched.weighted_completion([(1.0, 2.0), (2.0, 1.0)]) == 5.0


def test_simulation_by_hand():
    instance = sched.Instance(weights=(1.0, 1.0), works=(2.0, 2.0), true_speeds=((1.0, 2.0), (2.0, 1.0)),
                              predicted_speeds=((1.0, 2.0), (2.0, 1.0)))
    # each job alone on its fast machine: times 1 and 1 → bound 2; round-robin puts them on their slow machines
    assert sched.simulate(instance, sched.greedy_wspt) == pytest.approx(1.0)
    assert sched.simulate(instance, sched.round_robin) == pytest.approx((2.0 + 2.0) / 2.0)


def test_invalid_machine_is_an_error():
    with pytest.raises(ValueError, match="returned machine 7"):
        sched.simulate(sched.generate_instance(0, 0.0), lambda job, machines: 7)


def test_baselines_rank_as_expected():
    for seed in sched.TRAIN_SEEDS:
        for noise in sched.NOISE_LEVELS:
            instance = sched.generate_instance(seed, noise)
            oracle = sched.simulate(instance, sched.oracle_for(instance))
            greedy = sched.simulate(instance, sched.greedy_wspt)
            assert oracle >= 1.0 and oracle <= greedy + 1e-9
            assert greedy < sched.simulate(instance, sched.round_robin)
            if noise == 0.0:
                assert greedy == pytest.approx(oracle)


def test_noise_hurts_the_greedy_rule_on_average():
    metrics = sched.evaluate_assign(sched.greedy_wspt, sched.TRAIN_SEEDS)
    assert metrics["ratio@0"] < metrics["ratio@0.3"] < metrics["ratio@1"]
