"""Online scheduling on unrelated machines with noisy speed predictions (speed-oblivious scheduling).

Jobs are revealed one at a time and must be assigned to a machine at once, irrevocably, knowing only
*predicted* speeds.  Each machine then runs its jobs in Smith's order (weight over true processing time),
so the objective is the total weighted completion time under the true speeds.  The metric is that total
over a lower bound (every job alone on its truly fastest machine), at several prediction-noise levels.

The evolved function is `assign(job, machines)`: `job.weight`, `job.work`, `job.predicted[i]` (predicted
processing time on machine i); `machines[i].jobs` (the (weight, predicted time) pairs already assigned)
and `machines[i].predicted_load`.  Baselines: greedy WSPT insertion on predicted times, round-robin, and
the same greedy with the true times (the oracle, which sees what the others cannot).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

NOISE_LEVELS = (0.0, 0.3, 1.0)
TRAIN_SEEDS = (0, 1, 2, 3, 4, 5)
HOLDOUT_SEEDS = (100, 101, 102, 103)
METRICS = {f"ratio@{noise:g}": "min" for noise in NOISE_LEVELS} | {"ratio_mean": "min"}
ENTRY_POINTS = ("assign",)


@dataclass(frozen=True)
class Job:
    index: int
    weight: float
    work: float
    predicted: tuple[float, ...]


@dataclass
class Machine:
    index: int
    jobs: list[tuple[float, float]] = field(default_factory=list)
    predicted_load: float = 0.0


@dataclass(frozen=True)
class Instance:
    weights: tuple[float, ...]
    works: tuple[float, ...]
    true_speeds: tuple[tuple[float, ...], ...]
    predicted_speeds: tuple[tuple[float, ...], ...]

    def true_time(self, job: int, machine: int) -> float:
        return self.works[job] / self.true_speeds[job][machine]


def generate_instance(seed: int, noise: float, jobs: int = 60, machines: int = 4) -> Instance:
    """Machines are good at different jobs (unrelated speeds); predictions are off by a lognormal factor."""
    rng = random.Random(seed)
    weights = tuple(rng.choice((1.0, 1.0, 2.0, 5.0)) for _ in range(jobs))
    works = tuple(rng.lognormvariate(0.0, 0.8) for _ in range(jobs))
    speeds = tuple(tuple(rng.uniform(0.2, 2.0) for _ in range(machines)) for _ in range(jobs))
    noise_rng = random.Random(seed * 7919 + int(noise * 1000))
    predicted = tuple(tuple(s * math.exp(noise_rng.gauss(0.0, noise)) if noise else s for s in row) for row in speeds)
    return Instance(weights, works, speeds, predicted)


def weighted_completion(jobs: Sequence[tuple[float, float]]) -> float:
    """Total weighted completion time of (weight, time) pairs on one machine in Smith's order."""
    total, clock = 0.0, 0.0
    for weight, time in sorted(jobs, key=lambda j: (-j[0] / j[1], j[1])):
        clock += time
        total += weight * clock
    return total


def simulate(instance: Instance, assign: Callable[[Job, list[Machine]], int]) -> float:
    """Objective over lower bound for one instance."""
    count = len(instance.true_speeds[0])
    machines = [Machine(i) for i in range(count)]
    placed: list[list[tuple[float, float]]] = [[] for _ in range(count)]
    for j, (weight, work) in enumerate(zip(instance.weights, instance.works)):
        job = Job(j, weight, work, tuple(work / s for s in instance.predicted_speeds[j]))
        choice = int(assign(job, machines))
        if not 0 <= choice < count:
            raise ValueError(f"assign returned machine {choice}; there are {count}")
        machines[choice].jobs.append((weight, job.predicted[choice]))
        machines[choice].predicted_load += job.predicted[choice]
        placed[choice].append((weight, instance.true_time(j, choice)))
    objective = sum(weighted_completion(jobs) for jobs in placed)
    bound = sum(w * min(instance.true_time(j, i) for i in range(count)) for j, w in enumerate(instance.weights))
    return objective / bound


def evaluate_assign(assign: Callable[[Job, list[Machine]], int], seeds: Sequence[int]) -> dict[str, float]:
    metrics = {f"ratio@{noise:g}": sum(simulate(generate_instance(seed, noise), assign) for seed in seeds) / len(seeds)
               for noise in NOISE_LEVELS}
    metrics["ratio_mean"] = sum(metrics.values()) / len(NOISE_LEVELS)
    return metrics


def evaluate(candidate, split: str) -> dict[str, float]:
    """The discovery-problem interface: metrics of the candidate's `assign` on the train or holdout instances."""
    return evaluate_assign(candidate.assign, TRAIN_SEEDS if split == "train" else HOLDOUT_SEEDS)


def _insertion_cost(machine: Machine, weight: float, time: float) -> float:
    return weighted_completion(machine.jobs + [(weight, time)]) - weighted_completion(machine.jobs)


def greedy_wspt(job: Job, machines: list[Machine]) -> int:
    """Put the job where it raises the predicted weighted completion time least."""
    return min(range(len(machines)), key=lambda i: (_insertion_cost(machines[i], job.weight, job.predicted[i]), i))


def round_robin(job: Job, machines: list[Machine]) -> int:
    return job.index % len(machines)


def oracle_for(instance: Instance) -> Callable[[Job, list[Machine]], int]:
    """Greedy WSPT with the true times: needs the instance, so it is a ceiling, not a policy."""
    true_jobs: list[list[tuple[float, float]]] = [[] for _ in instance.true_speeds[0]]

    def assign(job: Job, machines: list[Machine]) -> int:
        times = [instance.true_time(job.index, i) for i in range(len(machines))]
        best = min(range(len(machines)), key=lambda i: (weighted_completion(true_jobs[i] + [(job.weight, times[i])])
                                                        - weighted_completion(true_jobs[i]), i))
        true_jobs[best].append((job.weight, times[best]))
        return best

    return assign


BASELINES = {"greedy_wspt": greedy_wspt, "round_robin": round_robin}
CEILINGS = ("oracle",)        # sees the true speeds: reported beside the baselines, never a policy


def evaluate_baseline(name: str, split: str) -> dict[str, float]:
    seeds = TRAIN_SEEDS if split == "train" else HOLDOUT_SEEDS
    if name != "oracle":
        return evaluate_assign(BASELINES[name], seeds)
    metrics = {f"ratio@{noise:g}": sum(simulate(instance, oracle_for(instance))
                                       for instance in (generate_instance(seed, noise) for seed in seeds)) / len(seeds)
               for noise in NOISE_LEVELS}
    metrics["ratio_mean"] = sum(metrics.values()) / len(NOISE_LEVELS)
    return metrics
