"""Prefix KV-cache block eviction, as in vLLM / SGLang automatic prefix caching.

Requests arrive as chains of block hashes (a block's hash covers every token before it, so equal hashes
mean an equal prefix).  A request reuses the longest cached prefix of its chain and saves that prefill;
its missing blocks are then cached, evicting other blocks when the cache is full.  Only leaf blocks (no
cached child) may be evicted, and never a block of the request being served.

The evolved function is `priority(block, now, clock)`, computed whenever a block is touched (inserted or
hit); the leaf with the lowest priority is evicted.  Metrics: the fraction of prefill tokens saved at
several cache sizes.  Baselines: LRU, LFU, FIFO, GDSF and Belady's MIN on leaves (which sees the future,
as the ceiling).  Traces come from `generate_trace`: multi-turn conversations over a Zipf-popular set of
shared system prompts, deterministic for a seed.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

BLOCK_TOKENS = 16
CACHE_SIZES = (64, 256, 1024)
TRAIN_SEEDS = (0, 1, 2)
HOLDOUT_SEEDS = (100, 101)
METRICS = {f"saved@{size}": "max" for size in CACHE_SIZES} | {"saved_mean": "max"}
ENTRY_POINTS = ("priority",)


@dataclass
class Block:
    """What a priority function may look at; `next_use` stays 0 unless the simulator is told to reveal the future
    (only for the Belady baseline: candidates never see it)."""

    key: int
    depth: int
    inserted_at: int
    last_access: int
    hits: int = 0
    children: int = 0
    next_use: int = 0


@dataclass(frozen=True)
class Trace:
    requests: tuple[tuple[int, ...], ...]


def generate_trace(seed: int, conversations: int = 120, system_prompts: int = 8, turns: int = 6,
                   regenerate: float = 0.15) -> Trace:
    """Conversations interleaved in time: each turn resends the system prompt and the whole history.

    A fraction of turns regenerate the last answer, resending the previous prompt unchanged: the only way a
    leaf block is hit again, and so what separates recency (LRU) from insertion order (FIFO).
    """
    rng = random.Random(seed)
    prompt_blocks = [rng.randint(4, 24) for _ in range(system_prompts)]
    popularity = [1.0 / (rank + 1) for rank in range(system_prompts)]
    active: list[list] = []
    requests: list[tuple[int, ...]] = []
    next_conversation = 0
    while next_conversation < conversations or active:
        if next_conversation < conversations and (not active or rng.random() < 0.35):
            prompt = rng.choices(range(system_prompts), weights=popularity)[0]
            active.append([prompt, [], rng.randint(1, turns), next_conversation])
            next_conversation += 1
        conversation = active[rng.randrange(len(active))]
        prompt, history, remaining, cid = conversation
        if not history or rng.random() >= regenerate:
            history.extend((cid, len(history), rng.random()) for _ in range(rng.randint(1, 6)))
        chain, key = [], 0
        for index in range(prompt_blocks[prompt]):
            key = hash((key, 0, prompt, index))
            chain.append(key)
        for item in history:
            key = hash((key, item))
            chain.append(key)
        requests.append(tuple(chain))
        conversation[2] -= 1
        if conversation[2] == 0:
            active.remove(conversation)
    return Trace(tuple(requests))


def load_trace_jsonl(path, limit: int | None = None) -> Trace:
    """A trace in the Mooncake (FAST'25) JSONL format: one request per line with `hash_ids`, one id per block.

    Ids are chained so that a block's key covers its whole prefix, as this cache assumes; for traces whose
    ids are already prefix hashes (Mooncake's) chaining changes nothing.  No public trace is bundled: pass
    the path of one you have the right to use.
    """
    import json
    from pathlib import Path

    requests = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            ids = json.loads(line)["hash_ids"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a Mooncake trace line with hash_ids ({exc})") from None
        chain, key = [], 0
        for block in ids:
            key = hash((key, int(block)))
            chain.append(key)
        requests.append(tuple(chain))
        if limit is not None and len(requests) >= limit:
            break
    return Trace(tuple(requests))


@dataclass
class PrefixCache:
    capacity: int
    priority: Callable[[Block, int, float], float]
    blocks: dict[int, Block] = field(default_factory=dict)
    parent: dict[int, int | None] = field(default_factory=dict)
    heap: list = field(default_factory=list)
    version: dict[int, int] = field(default_factory=dict)
    scores: dict[int, float] = field(default_factory=dict)
    clock: float = 0.0

    def touch(self, block: Block, now: int) -> None:
        self.scores[block.key] = float(self.priority(block, now, self.clock))
        self._push_if_leaf(block)

    def _push_if_leaf(self, block: Block) -> None:
        self.version[block.key] = self.version.get(block.key, 0) + 1
        if block.children == 0:
            heapq.heappush(self.heap, (self.scores[block.key], self.version[block.key], block.key))

    def evict_one(self, protected: set[int]) -> bool:
        skipped = []
        evicted = False
        while self.heap:
            score, version, key = heapq.heappop(self.heap)
            block = self.blocks.get(key)
            if block is None or version != self.version.get(key) or block.children:
                continue
            if key in protected:
                skipped.append((score, version, key))
                continue
            self.clock = max(self.clock, score)
            del self.blocks[key]
            self.scores.pop(key, None)
            parent = self.parent.pop(key)
            if parent is not None and parent in self.blocks:
                self.blocks[parent].children -= 1
                self._push_if_leaf(self.blocks[parent])
            evicted = True
            break
        for item in skipped:
            heapq.heappush(self.heap, item)
        return evicted

    def serve(self, chain: Sequence[int], now: int, next_use: Callable[[int], int] | None = None) -> int:
        """Serve one request; return how many of its blocks came from the cache."""
        hit = 0
        while hit < len(chain) and chain[hit] in self.blocks:
            hit += 1
        protected = set(chain)
        for depth, key in enumerate(chain):
            block = self.blocks.get(key)
            if block is None:
                if len(self.blocks) >= self.capacity and not self.evict_one(protected):
                    break
                parent = chain[depth - 1] if depth else None
                block = Block(key, depth, now, now)
                self.blocks[key] = block
                self.parent[key] = parent
                if parent is not None:
                    self.blocks[parent].children += 1
                    self.version[parent] = self.version.get(parent, 0) + 1
            else:
                block.hits += 1
                block.last_access = now
            if next_use is not None:
                block.next_use = next_use(key)
            self.touch(block, now)
        return hit


def simulate(trace: Trace, capacity: int, priority: Callable[[Block, int, float], float],
             future: bool = False) -> float:
    """Fraction of prefill tokens saved by the cache over the whole trace; `future` fills `Block.next_use`."""
    uses: dict[int, list[int]] = {}
    for now, chain in enumerate(trace.requests):
        for key in chain:
            uses.setdefault(key, []).append(now)
    pointer: dict[int, int] = {}

    cache = PrefixCache(capacity, priority)
    saved = total = 0
    for now, chain in enumerate(trace.requests):
        def next_use(key: int, now: int = now) -> int:
            times = uses[key]
            index = pointer.get(key, 0)
            while index < len(times) and times[index] <= now:
                index += 1
            pointer[key] = index
            return times[index] if index < len(times) else len(trace.requests) * 10
        saved += cache.serve(chain, now, next_use if future else None)
        total += len(chain)
    return saved / total if total else 0.0


def evaluate_priority(priority: Callable[[Block, int, float], float], seeds: Sequence[int],
                      future: bool = False) -> dict[str, float]:
    traces = [generate_trace(seed) for seed in seeds]
    metrics = {f"saved@{size}": sum(simulate(t, size, priority, future) for t in traces) / len(traces)
               for size in CACHE_SIZES}
    metrics["saved_mean"] = sum(metrics.values()) / len(CACHE_SIZES)
    return metrics


def lru(block: Block, now: int, clock: float) -> float:
    return block.last_access


def lfu(block: Block, now: int, clock: float) -> float:
    return block.hits + block.last_access / 1e9


def fifo(block: Block, now: int, clock: float) -> float:
    return block.inserted_at


def gdsf(block: Block, now: int, clock: float) -> float:
    """Greedy-Dual-Size-Frequency: the clock inflates to each evicted score; cost = the prefix a block saves."""
    return clock + (block.hits + 1) * (block.depth + 1) * BLOCK_TOKENS / BLOCK_TOKENS


def belady(block: Block, now: int, clock: float) -> float:
    """Evict the leaf used farthest in the future (needs the future: the ceiling, not a policy)."""
    return -block.next_use


BASELINES = {"lru": lru, "lfu": lfu, "fifo": fifo, "gdsf": gdsf, "belady": belady}


def evaluate(candidate, split: str) -> dict[str, float]:
    """The discovery-problem interface: metrics of the candidate's `priority` on the train or holdout traces."""
    return evaluate_priority(candidate.priority, TRAIN_SEEDS if split == "train" else HOLDOUT_SEEDS)


def evaluate_baseline(name: str, split: str) -> dict[str, float]:
    return evaluate_priority(BASELINES[name], TRAIN_SEEDS if split == "train" else HOLDOUT_SEEDS,
                             future=name == "belady")
