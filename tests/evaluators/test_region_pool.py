"""Shared-memory regions are reused between jobs only by runners of the role they served, within a budget."""

from evaluators.shared_memory import Layout, RegionPool


def layout(count: int) -> Layout:
    return Layout.of([((count,), "float32")])


def test_a_region_goes_back_only_to_its_role():
    pool = RegionPool()
    region = pool.take("candidate", layout(1024))
    pool.give("candidate", region)
    assert pool.take("reference", layout(1024)) is not region
    assert pool.take("candidate", layout(1024)) is region
    assert pool.take("candidate", layout(1024)) is not region   # taken: never handed out twice
    pool.close()


def test_a_region_of_another_layout_is_never_reused():
    pool = RegionPool()
    region = pool.take("candidate", layout(1024))
    pool.give("candidate", region)
    assert pool.take("candidate", layout(2048)) is not region
    pool.close()


def test_past_the_budget_the_oldest_regions_are_closed():
    pool = RegionPool(keep_bytes=3 * 4096 * 4)
    old = pool.take("candidate", layout(4096))
    new = [pool.take("candidate", layout(4096 + i)) for i in range(1, 4)]
    pool.give("candidate", old)
    for region in new:
        pool.give("candidate", region)
    assert old.fd == -1, "the oldest region is closed once the pool holds more than its budget"
    assert all(region.fd >= 0 for region in new[1:])
    pool.close()
    assert all(region.fd == -1 for region in new)


def test_a_layout_given_back_again_is_kept_before_older_ones():
    pool = RegionPool(keep_bytes=2 * 4096 * 4 + 64)
    first, second = pool.take("candidate", layout(4096)), pool.take("candidate", layout(4097))
    pool.give("candidate", first)
    pool.give("candidate", second)
    pool.give("candidate", pool.take("candidate", layout(4096)))   # reused: now the most recent
    third = pool.take("candidate", layout(4098))
    pool.give("candidate", third)
    assert second.fd == -1 and first.fd >= 0 and third.fd >= 0
    pool.close()
