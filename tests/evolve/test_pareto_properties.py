"""Property tests of Pareto ranking, island trimming and parent sampling."""

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from evolve.pareto import Fronts, crowding_distances, dominates, non_dominated_fronts, pareto_ranks
from evolve.population import FeatureSpec, Individual, elite_ids, migrants, trim_island
from evolve.sampling import (SamplerSettings, TreeNode, epsilon, epsilon_greedy_pick, pick_inspirations,
                             tournament_pick, uniform_pick)

values = st.integers(min_value=-5, max_value=5).map(float)
points_2d = st.lists(st.tuples(values, values), min_size=1, max_size=30)
DESCRIPTORS = (FeatureSpec("lines", (10.0, 20.0)),)


def individuals(points):
    return [Individual(id=i + 1, island=i % 2, objectives=p, features={"lines": (i * 7) % 30}, score=p[0])
            for i, p in enumerate(points)]


@given(points_2d)
def test_fronts_partition_points_and_respect_dominance(points):
    fronts = non_dominated_fronts(points)
    flat = [i for front in fronts for i in front]
    assert sorted(flat) == list(range(len(points)))
    level = {i: k for k, front in enumerate(fronts) for i in front}
    for i in range(len(points)):
        for j in range(len(points)):
            if dominates(points[i], points[j]):
                assert level[i] < level[j]
    for k in range(1, len(fronts)):
        for j in fronts[k]:
            assert any(dominates(points[i], points[j]) for i in fronts[k - 1])


@given(points_2d)
def test_first_front_is_exactly_the_undominated(points):
    front = set(non_dominated_fronts(points)[0])
    for j in range(len(points)):
        undominated = not any(dominates(p, points[j]) for p in points)
        assert (j in front) == undominated


@given(points_2d)
def test_crowding_is_nonnegative_with_infinite_extremes(points):
    for front in non_dominated_fronts(points):
        distance = crowding_distances(points, front)
        assert all(d >= 0 for d in distance.values())
        for axis in range(2):
            extreme = max(front, key=lambda i: (points[i][axis], i))
            assert math.isinf(distance[extreme])


def test_crowding_by_hand():
    points = [(0.0, 4.0), (1.0, 2.0), (2.0, 1.0), (4.0, 0.0)]
    distance = crowding_distances(points, [0, 1, 2, 3])
    assert math.isinf(distance[0]) and math.isinf(distance[3])
    assert distance[1] == (2 - 0) / 4 + (4 - 1) / 4
    assert distance[2] == (4 - 1) / 4 + (2 - 0) / 4


@given(points_2d, st.integers(min_value=1, max_value=12))
def test_trim_holds_capacity_and_keeps_elites_while_they_fit(points, capacity):
    members = individuals(points)
    kept, evicted = trim_island(members, capacity, DESCRIPTORS)
    elites = elite_ids(members, DESCRIPTORS)
    kept_ids = {m.id for m in kept}
    assert kept_ids | {m.id for m in evicted} == {m.id for m in members}
    assert not kept_ids & {m.id for m in evicted}
    assert len(kept) == min(capacity, len(members))
    assert elites <= kept_ids if len(elites) <= capacity else kept_ids <= elites
    best = max(members, key=lambda m: (m.score, -m.id))
    assert best.id in kept_ids


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=1, max_value=12))
def test_tied_copies_are_thinned_first_and_the_island_keeps_its_distinct_programs(copies, capacity):
    """A stagnant island: the best program's migrant copies tie with it on every objective."""
    distinct = [Individual(1, 0, (2.0, -10.0), {"lines": 5}, 2.0), Individual(2, 0, (1.0, -5.0), {"lines": 15}, 1.0)]
    clones = [Individual(10 + k, 0, (2.0, -10.0), {"lines": 5}, 2.0) for k in range(copies)]
    kept, _ = trim_island(distinct + clones, capacity, DESCRIPTORS)
    assert len(kept) == min(capacity, copies + 2)
    assert {1, 2} <= {m.id for m in kept} if capacity >= 2 else [m.id for m in kept] == [1]


@given(points_2d, st.integers(min_value=1, max_value=12))
def test_trim_evicts_worst_fronts_first(points, capacity):
    members = individuals(points)
    kept, evicted = trim_island(members, capacity, DESCRIPTORS)
    if not evicted:
        return
    rank, _ = pareto_ranks([m.objectives for m in members])
    rank_of = {m.id: r for m, r in zip(members, rank)}
    elites = elite_ids(members, DESCRIPTORS)
    worst_evicted_rank = min(rank_of[m.id] for m in evicted)
    for m in kept:
        if m.id not in elites:
            assert rank_of[m.id] <= worst_evicted_rank


@given(points_2d, st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=5))
def test_tournament_is_seeded_and_returns_an_undominated_contestant(points, seed, size):
    members = individuals(points)
    first = tournament_pick(members, random.Random(seed), size)
    again = tournament_pick(members, random.Random(seed), size)
    assert first == again and first in members
    if size >= len(members):
        assert not any(dominates(m.objectives, first.objectives) for m in members)


@given(points_2d, st.integers(min_value=0, max_value=2**32))
def test_uniform_and_inspirations_are_seeded_members(points, seed):
    members = individuals(points)
    parent = uniform_pick(members, random.Random(seed))
    assert parent == uniform_pick(members, random.Random(seed))
    picks = pick_inspirations(members, parent.id, 2, random.Random(seed))
    assert picks == pick_inspirations(members, parent.id, 2, random.Random(seed))
    assert parent not in picks and all(p in members for p in picks)
    assert len(picks) == min(2, len(members) - 1)


@settings(max_examples=50)
@given(st.lists(st.tuples(st.floats(0, 10), st.booleans(), st.integers(0, 5)), min_size=1, max_size=20),
       st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=50))
def test_epsilon_greedy_is_seeded_and_exploits_the_best_when_epsilon_is_zero(raw, seed, stagnation):
    nodes = [TreeNode(i + 1, s, c, k) for i, (s, c, k) in enumerate(raw)]
    config = SamplerSettings()
    pick = epsilon_greedy_pick(nodes, random.Random(seed), stagnation, config)
    assert pick == epsilon_greedy_pick(nodes, random.Random(seed), stagnation, config)
    greedy = SamplerSettings(epsilon_min=0.0, epsilon_max=0.0)
    chosen = epsilon_greedy_pick(nodes, random.Random(seed), stagnation, greedy)
    pool = [n for n in nodes if n.correct] or nodes
    assert chosen in pool
    score = lambda n: n.score / (1 + greedy.expansion_penalty * n.children)  # noqa: E731
    assert score(chosen) == max(score(n) for n in pool)


def test_epsilon_ramps_with_stagnation():
    config = SamplerSettings(epsilon_min=0.1, epsilon_max=0.5, patience=4)
    assert [epsilon(s, config) for s in (0, 2, 4, 10)] == [0.1, 0.30000000000000004, 0.5, 0.5]


def test_ring_migration_sends_each_islands_best_to_the_next():
    members = [Individual(1, 0, (1.0,), score=1.0), Individual(2, 0, (3.0,), score=3.0),
               Individual(3, 1, (2.0,), score=2.0), Individual(4, 2, (0.5,), score=0.5)]
    moves = [(m.id, to) for m, to in migrants(members, 3)]
    assert moves == [(2, 1), (3, 2), (4, 0)]
    assert migrants(members, 1) == []


def test_migration_never_brings_an_island_what_it_already_holds():
    members = [Individual(1, 0, (3.0,), score=3.0, fingerprint="a"), Individual(2, 0, (2.0,), score=2.0, fingerprint="b"),
               Individual(3, 1, (3.0,), score=3.0, fingerprint="a"), Individual(4, 1, (1.0,), score=1.0, fingerprint="c")]
    moves = [(m.id, to) for m, to in migrants(members, 2)]
    assert moves == [(2, 1), (4, 0)]   # each island already holds the other's best (twins): the runners-up go


operations = st.lists(st.tuples(st.booleans(), st.tuples(values, values)), min_size=1, max_size=60)


@given(operations, st.integers(min_value=0, max_value=2**32))
def test_incremental_fronts_equal_sorting_from_scratch(steps, seed):
    """After any sequence of adds and removes, Fronts ranks and crowds every point as pareto_ranks does."""
    fronts, rng, next_key = Fronts(), random.Random(seed), 1
    for adding, point in steps:
        if adding or not fronts.points:
            fronts.add(next_key, point)
            next_key += 1
        else:
            fronts.remove(rng.choice(sorted(fronts.points)))
        keys = sorted(fronts.points)
        rank, crowding = pareto_ranks([fronts.points[k] for k in keys])
        assert [fronts.rank(k) for k in keys] == rank
        assert [fronts.crowding(k) for k in keys] == crowding
        assert all(fronts.fronts)
