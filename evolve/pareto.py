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


class Fronts:
    """The non-dominated fronts of a changing set of keyed points, kept current on every add and remove.

    An island is ranked on every admission, selection and eviction; sorting it from scratch each time made the
    campaign loop's cost grow with its population.  One added point can push a point down by at most one front
    and one removed point can lift a point by at most one, so an update walks the fronts once, comparing each
    point against the points that moved.  Ranks and crowding equal `pareto_ranks` over the points in key order
    (the tests hold them to it); crowding is computed per front when asked and kept until that front changes."""

    def __init__(self) -> None:
        self.points: dict[int, tuple[float, ...]] = {}
        self.fronts: list[list[int]] = []
        self.level: dict[int, int] = {}
        self._crowding: dict[int, dict[int, float]] = {}

    def rank(self, key: int) -> int:
        return self.level[key]

    def crowding(self, key: int) -> float:
        level = self.level[key]
        if level not in self._crowding:
            front = sorted(self.fronts[level])
            self._crowding[level] = crowding_distances(self.points, front) if front else {}
        return self._crowding[level][key]

    def add(self, key: int, point: Sequence[float]) -> None:
        point = tuple(point)
        self.points[key] = point
        level = next((k for k, front in enumerate(self.fronts)
                      if not any(dominates(self.points[other], point) for other in front)), len(self.fronts))
        moving = [key]
        while moving:
            if level == len(self.fronts):
                self.fronts.append([])
            front = self.fronts[level]
            pushed = [other for other in front if any(dominates(self.points[m], self.points[other]) for m in moving)]
            for other in pushed:
                front.remove(other)
            for m in moving:
                front.append(m)
                self.level[m] = level
            self._crowding.pop(level, None)
            moving, level = pushed, level + 1

    def remove(self, key: int) -> None:
        level = self.level.pop(key)
        self.fronts[level].remove(key)
        del self.points[key]
        self._crowding.pop(level, None)
        left = [key]
        while level + 1 < len(self.fronts) and left:
            above, below = self.fronts[level], self.fronts[level + 1]
            lifted = [other for other in below if not any(dominates(self.points[a], self.points[other]) for a in above)]
            for other in lifted:
                below.remove(other)
                above.append(other)
                self.level[other] = level
            if lifted:
                self._crowding.pop(level, None)
                self._crowding.pop(level + 1, None)
            left, level = lifted, level + 1
        while self.fronts and not self.fronts[-1]:
            self.fronts.pop()
            self._crowding.pop(len(self.fronts), None)
