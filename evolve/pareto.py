"""Multi-objective ranking: non-dominated sorting and crowding distance (NSGA-II), all objectives maximized."""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = Sequence[float]


def dominates(a: Point, b: Point) -> bool:
    """a is at least as good everywhere and strictly better somewhere."""
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def non_dominated_fronts(points: Sequence[Point]) -> list[list[int]]:
    """Indices grouped into fronts: front 0 is dominated by nobody, front k only by fronts before it."""
    count = len(points)
    dominated_by_count = [0] * count
    dominating: list[list[int]] = [[] for _ in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            if dominates(points[i], points[j]):
                dominating[i].append(j)
                dominated_by_count[j] += 1
            elif dominates(points[j], points[i]):
                dominating[j].append(i)
                dominated_by_count[i] += 1
    fronts: list[list[int]] = []
    current = [i for i in range(count) if dominated_by_count[i] == 0]
    while current:
        fronts.append(sorted(current))
        following = []
        for i in current:
            for j in dominating[i]:
                dominated_by_count[j] -= 1
                if dominated_by_count[j] == 0:
                    following.append(j)
        current = following
    return fronts


def crowding_distances(points: Sequence[Point], front: Sequence[int]) -> dict[int, float]:
    """How isolated each point is within its front; the extremes of every objective get infinity."""
    distance = {i: 0.0 for i in front}
    if len(front) <= 2:
        return {i: math.inf for i in front}
    for axis in range(len(points[front[0]])):
        ordered = sorted(front, key=lambda i: (points[i][axis], i))
        low, high = points[ordered[0]][axis], points[ordered[-1]][axis]
        distance[ordered[0]] = distance[ordered[-1]] = math.inf
        if high == low:
            continue
        for before, here, after in zip(ordered, ordered[1:], ordered[2:]):
            distance[here] += (points[after][axis] - points[before][axis]) / (high - low)
    return distance


def pareto_ranks(points: Sequence[Point]) -> tuple[list[int], list[float]]:
    """Front index and crowding distance of every point, for sorting by (rank ascending, crowding descending)."""
    rank = [0] * len(points)
    crowding = [0.0] * len(points)
    for level, front in enumerate(non_dominated_fronts(points)):
        for i, d in crowding_distances(points, front).items():
            rank[i], crowding[i] = level, d
    return rank, crowding
