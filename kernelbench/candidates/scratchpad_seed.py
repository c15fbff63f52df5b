"""Seed for evolving discovery/scratchpad_planning: a weighted list scheduler and a weighted eviction score.

With these weights it is exactly the topological-order + LRU baseline; the offline mutator moves the
weights, an LLM may rewrite the functions.
"""

# EVOLVE-BLOCK-START
FREE_WEIGHT = 0.0       # prefer ops whose inputs die after them
RECENT_WEIGHT = 0.0     # prefer ops reading what was produced last (depth-first)
OUTPUT_WEIGHT = 0.0     # put off ops with large outputs
RECENCY_WEIGHT = 1.0    # evict the least recently used ...
NEXT_USE_WEIGHT = 0.0   # ... or the one needed furthest ahead
SIZE_WEIGHT = 0.0       # ... or a large one
DIRTY_WEIGHT = 0.0      # ... but spare tensors that would have to be written out


def schedule(graph):
    readers = {t.index: len(graph.consumers(t.index)) for t in graph.tensors}
    produced_at, order = {}, []
    while len(order) < len(graph.ops):
        ready = [op for op in graph.ops if op.output not in produced_at and all(
            graph.tensors[k].producer is None or k in produced_at for k in op.inputs)]

        def score(op):
            freed = sum(graph.tensors[k].size for k in set(op.inputs) if readers[k] == 1)
            recent = max((step for k, step in produced_at.items() if k in op.inputs), default=-1)
            return (FREE_WEIGHT * freed + RECENT_WEIGHT * recent - OUTPUT_WEIGHT * graph.tensors[op.output].size,
                    -op.index)

        chosen = max(ready, key=score)
        for k in set(chosen.inputs):
            readers[k] -= 1
        produced_at[chosen.output] = len(order)
        order.append(chosen.index)
    return order


def evict(candidates, step):
    def keep(r):
        return (RECENCY_WEIGHT * r.last_use - NEXT_USE_WEIGHT * r.next_use - SIZE_WEIGHT * r.size
                + DIRTY_WEIGHT * r.size * r.dirty)

    return min(candidates, key=lambda r: (keep(r), r.index)).index
# EVOLVE-BLOCK-END
