"""A pool of evaluator Ray actors, each owning one reusable worker process.

The actor itself only waits on its worker (so it asks Ray for no CPU); the worker process does the work
and dies alone when a candidate misbehaves.  Work in flight is bounded by the number of actors.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import ray
from ray.exceptions import RayActorError

from evaluators.config import EvalRequest
from evaluators.dispatch import EvaluatorLost
from evaluators.judge import Judge
from evaluators.records import EvalResult


class EvaluatorActor:
    def __init__(self, scratch_root: str | None = None, max_jobs: int = 500, cpu_offset: int = 0):
        self.worker = Judge(scratch_root, max_jobs, cpu_offset)

    def evaluate(self, request: EvalRequest) -> EvalResult:
        return self.worker.evaluate(request)

    def worker_pid(self) -> int | None:
        return self.worker.pid

    def worker_starts(self) -> int:
        return self.worker.starts

    def sandbox_processes(self) -> list[int]:
        return self.worker.sandbox_processes()

    def shutdown(self) -> None:
        self.worker.close()


class EvaluatorPool:
    def __init__(self, size: int, scratch_root: str | None = None, num_gpus_per_worker: float = 0,
                 max_jobs_per_worker: int = 500, resource: str = "", first_block: int = 0):
        """`resource` names a custom Ray resource each actor takes one unit of (to pin evaluators to
        evaluator nodes of a cluster).  Actors are spread over nodes; an actor lost with its node is
        restarted elsewhere by Ray and its in-flight evaluations are retried there.
        `first_block`: the CPU block of the first actor; pools that run at the same time on one machine (a
        sweep's concurrent campaigns) start at different blocks so their evaluations do not share cores."""
        if size < 1:
            raise ValueError(f"pool size must be at least 1, got {size}")
        self._actor_class = ray.remote(num_cpus=0, num_gpus=num_gpus_per_worker, max_restarts=-1, max_task_retries=-1,
                                       resources={resource: 1} if resource else None,
                                       scheduling_strategy="SPREAD")(EvaluatorActor)
        self._actor_args = (scratch_root, max_jobs_per_worker)
        self.first_block = first_block
        self.actors = [self._new_actor(index) for index in range(size)]
        self.generations = [0] * size
        """How many times each slot's actor was replaced (see EvaluatorLost)."""

    def _new_actor(self, index: int):
        """Actor `index` pins its runners to its own block of CPUs, so concurrent evaluations do not share cores."""
        return self._actor_class.remote(*self._actor_args, self.first_block + index)

    def replace(self, lost: EvaluatorLost) -> bool:
        """A new actor for a lost one, unless that one was replaced already; whether it was replaced now."""
        if lost.generation != self.generations[lost.slot]:
            return False
        self.actors[lost.slot] = self._new_actor(lost.slot)
        self.generations[lost.slot] += 1
        return True

    def evaluate(self, request: EvalRequest, timeout: float | None = None) -> EvalResult:
        return next(self.map([request], timeout=timeout))[1]

    def map(self, requests: Iterable[EvalRequest], timeout: float | None = None) -> Iterator[tuple[int, EvalResult]]:
        """Yield (index, result) as results complete, never more requests in flight than actors."""
        pending = list(enumerate(requests))[::-1]
        idle = list(range(len(self.actors)))
        in_flight: dict = {}
        retried: set[int] = set()
        while pending or in_flight:
            while pending and idle:
                slot = idle.pop()
                index, request = pending.pop()
                in_flight[self.actors[slot].evaluate.remote(request)] = (slot, index, request)
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=timeout)
            if not done:
                raise TimeoutError(f"no evaluation finished within {timeout} s")
            slot, index, request = in_flight.pop(done[0])
            idle.append(slot)
            try:
                result = ray.get(done[0])
            except RayActorError:
                self.replace(EvaluatorLost(slot, self.generations[slot]))
                if index in retried:
                    raise
                retried.add(index)
                pending.append((index, request))
                continue
            yield index, result

    def sandbox_processes(self, timeout: float = 30) -> list[int]:
        """Host pids of every process inside the actors' sandboxes, zygotes excluded (idle: none)."""
        return [pid for pids in ray.get([a.sandbox_processes.remote() for a in self.actors], timeout=timeout)
                for pid in pids]

    def worker_pids(self, timeout: float = 30) -> list[int | None]:
        return ray.get([actor.worker_pid.remote() for actor in self.actors], timeout=timeout)

    def shutdown(self, timeout: float = 30) -> None:
        ray.get([actor.shutdown.remote() for actor in self.actors], timeout=timeout)
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
