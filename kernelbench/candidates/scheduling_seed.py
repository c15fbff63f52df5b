"""Seed for evolving discovery/speed_prediction_scheduling: greedy WSPT insertion that can learn to distrust
noisy speed predictions (TRUST < 1 shrinks them toward the job's mean) and to spread load."""

# EVOLVE-BLOCK-START
TRUST = 1.0
LOAD_WEIGHT = 0.0


def weighted_completion(jobs):
    total, clock = 0.0, 0.0
    for weight, time in sorted(jobs, key=lambda j: (-j[0] / j[1], j[1])):
        clock += time
        total += weight * clock
    return total


def assign(job, machines):
    mean = sum(job.predicted) / len(job.predicted)
    costs = []
    for index, machine in enumerate(machines):
        time = mean * (job.predicted[index] / mean) ** TRUST
        added = weighted_completion(machine.jobs + [(job.weight, time)]) - weighted_completion(machine.jobs)
        costs.append((added + LOAD_WEIGHT * job.weight * machine.predicted_load, index))
    return min(costs)[1]
# EVOLVE-BLOCK-END
