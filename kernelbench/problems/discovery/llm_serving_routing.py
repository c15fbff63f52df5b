"""LLM-serving request routing over a deterministic discrete-event simulator of serving instances.

Each instance runs continuous batching: every iteration prefills newly admitted requests (first come first
served, bounded by a prefill-token budget and the batch size) and decodes one token for every running
request.  A request reserves KV-cache space for its whole sequence when admitted and frees it when done,
so a full KV pool blocks the queue.  Iteration time follows a linear model (fixed cost + prefill tokens +
decoding sequences + attended context), divided by the instance's speed: the instances are a mix of fast
and slow accelerators.  Workloads are Poisson arrivals of chat requests with a heavy tail of long-document
prompts, at several load levels.

The evolved function is `route(request, instances)` → instance index, called once at arrival with frozen
`RequestView` / `InstanceView` snapshots.  Metrics: goodput (the fraction of requests meeting both the
TTFT and the time-per-output-token SLO) and P99 time to first token, per load and averaged.  Baselines:
round-robin, least-loaded (fewest outstanding requests) and power-of-two choices.
"""

from __future__ import annotations

import heapq
import math
import operator
import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LOADS = (0.5, 0.7, 0.9)
TRAIN_SEEDS = (0, 1, 2)
HOLDOUT_SEEDS = (100, 101)
SLO_TTFT = 1.0                 # seconds
SLO_TPOT = 0.06                # seconds per output token after the first
METRICS = ({f"goodput@{load:g}": "max" for load in LOADS} | {"goodput_mean": "max"}
           | {f"p99_ttft@{load:g}": "min" for load in LOADS} | {"p99_ttft_mean": "min"})
ENTRY_POINTS = ("route",)


@dataclass(frozen=True)
class Cluster:
    speeds: tuple[float, ...] = (1.0, 1.0, 0.5, 0.5)
    kv_tokens: int = 160_000
    max_batch: int = 48
    prefill_budget: int = 8192          # prefill tokens per iteration (one longer prompt runs alone)
    base_s: float = 0.010
    prefill_s_per_token: float = 0.00008
    decode_s_per_seq: float = 0.0004
    attend_s_per_token: float = 0.0000002

    def iteration_time(self, speed: float, prefill_tokens: int, decoding: int, context_tokens: int) -> float:
        return (self.base_s + self.prefill_s_per_token * prefill_tokens + self.decode_s_per_seq * decoding
                + self.attend_s_per_token * context_tokens) / speed


@dataclass(frozen=True)
class Request:
    id: int
    arrival: float
    prompt_tokens: int
    output_tokens: int
    predicted_output_tokens: int


@dataclass(frozen=True)
class RequestView:
    id: int
    arrival: float
    prompt_tokens: int
    predicted_output_tokens: int


@dataclass(frozen=True)
class InstanceView:
    """What a router may see about one instance at the moment a request arrives."""

    index: int
    speed: float
    queued: int
    queued_prompt_tokens: int
    running: int
    kv_used: int
    kv_capacity: int
    busy_until: float


@dataclass
class _Live:
    request: Request
    generated: int = 0
    first_token: float = math.nan
    done: float = math.nan


@dataclass
class _Instance:
    index: int
    speed: float
    waiting: deque = field(default_factory=deque)
    running: list = field(default_factory=list)
    kv_used: int = 0
    busy_until: float = 0.0
    busy: bool = False


def generate_workload(seed: int, load: float, cluster: Cluster = Cluster(), requests: int = 500) -> list[Request]:
    """Chat requests plus 10% long documents; the arrival rate is `load` times a rough cluster capacity."""
    rng = random.Random(seed * 1009 + int(load * 100))
    items = []
    for _ in range(requests):
        if rng.random() < 0.1:
            prompt, output = int(rng.uniform(4000, 12000)), int(rng.lognormvariate(4.0, 0.6))
        else:
            prompt, output = int(rng.lognormvariate(6.3, 0.8)), int(rng.lognormvariate(5.0, 0.7))
        items.append((min(max(prompt, 16), 16000), min(max(output, 1), 1500)))
    mean_prompt = sum(p for p, _ in items) / requests
    mean_output = sum(o for _, o in items) / requests
    # one request's work on a speed-1 instance when decoding in a batch of ~16
    work = (cluster.prefill_s_per_token * mean_prompt
            + mean_output * (cluster.base_s / 16 + cluster.decode_s_per_seq))
    rate = load * sum(cluster.speeds) / work
    clock, workload = 0.0, []
    for index, (prompt, output) in enumerate(items):
        clock += rng.expovariate(rate)
        predicted = max(1, round(output * math.exp(rng.gauss(0.0, 0.5))))
        workload.append(Request(index, clock, prompt, output, predicted))
    return workload


class Simulator:
    """Events are (time, sequence, kind, payload); the sequence number makes ties deterministic."""

    def __init__(self, cluster: Cluster, route: Callable[[RequestView, list[InstanceView]], int]):
        self.cluster, self.route = cluster, route
        self.instances = [_Instance(i, s) for i, s in enumerate(cluster.speeds)]
        self.events: list = []
        self.sequence = 0
        self.finished: list[_Live] = []

    def push(self, time: float, kind: str, payload) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (time, self.sequence, kind, payload))

    def run(self, workload: Sequence[Request]) -> list[_Live]:
        for request in workload:
            if request.prompt_tokens + request.output_tokens > self.cluster.kv_tokens:
                raise ValueError(f"request {request.id} needs more KV space than an instance has")
            self.push(request.arrival, "arrive", request)
        while self.events:
            now, _, kind, payload = heapq.heappop(self.events)
            if kind == "arrive":
                self.arrive(now, payload)
            elif kind == "start":
                self.start_iteration(now, payload)
            else:
                self.finish_iteration(now, *payload)
        return sorted(self.finished, key=lambda live: live.request.id)

    def views(self) -> list[InstanceView]:
        return [InstanceView(i.index, i.speed, len(i.waiting), sum(l.request.prompt_tokens for l in i.waiting),
                             len(i.running), i.kv_used, self.cluster.kv_tokens, i.busy_until)
                for i in self.instances]

    def arrive(self, now: float, request: Request) -> None:
        view = RequestView(request.id, request.arrival, request.prompt_tokens, request.predicted_output_tokens)
        choice = self.route(view, self.views())
        try:
            index = operator.index(choice)          # numpy integers too
        except TypeError:
            index = -1
        if not 0 <= index < len(self.instances):
            raise ValueError(f"route returned instance {choice!r}; there are {len(self.instances)}")
        choice = index
        instance = self.instances[choice]
        instance.waiting.append(_Live(request))
        if not instance.busy:               # start after every arrival at this instant has been queued
            instance.busy = True
            self.push(now, "start", instance)

    def start_iteration(self, now: float, instance: _Instance) -> None:
        admitted, prefill = [], 0
        while instance.waiting and len(instance.running) + len(admitted) < self.cluster.max_batch:
            live = instance.waiting[0]
            need = live.request.prompt_tokens + live.request.output_tokens
            if instance.kv_used + need > self.cluster.kv_tokens:
                break
            if admitted and prefill + live.request.prompt_tokens > self.cluster.prefill_budget:
                break
            instance.waiting.popleft()
            instance.kv_used += need
            prefill += live.request.prompt_tokens
            admitted.append(live)
        decoding = list(instance.running)
        context = sum(l.request.prompt_tokens + l.generated for l in decoding)
        duration = self.cluster.iteration_time(instance.speed, prefill, len(decoding), context)
        instance.busy, instance.busy_until = True, now + duration
        self.push(now + duration, "iteration", (instance, admitted, decoding))

    def finish_iteration(self, now: float, instance: _Instance, admitted: list[_Live], decoding: list[_Live]) -> None:
        for live in admitted:
            live.first_token, live.generated = now, 1
            instance.running.append(live)
        for live in decoding:
            live.generated += 1
        for live in [l for l in instance.running if l.generated >= l.request.output_tokens]:
            live.done = now
            instance.running.remove(live)
            instance.kv_used -= live.request.prompt_tokens + live.request.output_tokens
            self.finished.append(live)
        if instance.waiting or instance.running:
            self.start_iteration(now, instance)
        else:
            instance.busy = False


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def serve(workload: Sequence[Request], route: Callable, cluster: Cluster = Cluster()) -> dict[str, float]:
    finished = Simulator(cluster, route).run(workload)
    ttfts = [l.first_token - l.request.arrival for l in finished]
    tpots = [(l.done - l.first_token) / (l.request.output_tokens - 1) if l.request.output_tokens > 1 else 0.0
             for l in finished]
    good = sum(1 for ttft, tpot in zip(ttfts, tpots) if ttft <= SLO_TTFT and tpot <= SLO_TPOT)
    return {"goodput": good / len(finished), "p99_ttft": percentile(ttfts, 99)}


def evaluate_route(route: Callable, seeds: Sequence[int]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for load in LOADS:
        runs = [serve(generate_workload(seed, load), route) for seed in seeds]
        metrics[f"goodput@{load:g}"] = sum(r["goodput"] for r in runs) / len(runs)
        metrics[f"p99_ttft@{load:g}"] = sum(r["p99_ttft"] for r in runs) / len(runs)
    metrics["goodput_mean"] = sum(metrics[f"goodput@{load:g}"] for load in LOADS) / len(LOADS)
    metrics["p99_ttft_mean"] = sum(metrics[f"p99_ttft@{load:g}"] for load in LOADS) / len(LOADS)
    return metrics


def evaluate(candidate, split: str) -> dict[str, float]:
    """The discovery-problem interface: the candidate's `route` on the train or holdout workloads."""
    return evaluate_route(candidate.route, TRAIN_SEEDS if split == "train" else HOLDOUT_SEEDS)


def round_robin(request: RequestView, instances: list[InstanceView]) -> int:
    return request.id % len(instances)


def _outstanding(instance: InstanceView) -> tuple[int, int]:
    return instance.queued + instance.running, instance.index


def least_loaded(request: RequestView, instances: list[InstanceView]) -> int:
    return min(instances, key=_outstanding).index


def power_of_two(request: RequestView, instances: list[InstanceView]) -> int:
    """Two instances drawn at random (seeded by the request id), the less loaded wins."""
    pair = random.Random(request.id).sample(instances, 2)
    return min(pair, key=_outstanding).index


BASELINES = {"round_robin": round_robin, "least_loaded": least_loaded, "power_of_two": power_of_two}


def evaluate_baseline(name: str, split: str) -> dict[str, float]:
    return evaluate_route(BASELINES[name], TRAIN_SEEDS if split == "train" else HOLDOUT_SEEDS)
