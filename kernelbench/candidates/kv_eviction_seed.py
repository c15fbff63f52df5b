"""Seed for evolving discovery/kv_cache_eviction: a weighted priority that starts as plain LRU.

The weights are tunable constants the offline mutator can move; an LLM may rewrite the function itself.
"""

# EVOLVE-BLOCK-START
RECENCY_WEIGHT = 1.0
FREQUENCY_WEIGHT = 0.0
DEPTH_WEIGHT = 0.0
CLOCK_WEIGHT = 0.0


def priority(block, now, clock):
    """Lower is evicted first; called when a block is inserted or hit."""
    return (RECENCY_WEIGHT * block.last_access + FREQUENCY_WEIGHT * block.hits + DEPTH_WEIGHT * block.depth
            + CLOCK_WEIGHT * clock)
# EVOLVE-BLOCK-END
