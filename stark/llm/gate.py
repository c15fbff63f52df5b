"""One request-slot pool per endpoint, shared by every role that calls it.

A local llama.cpp server answers one request at a time; with three roles and several proposals in flight,
each role's own limit let queued requests pile up on the server (298 s latencies).  The gate is a small
async Ray actor per endpoint: a try takes a slot before it sends and gives it back after.  A slot is a lease
that lapses after the try's own timeout, so a role process that dies holding one cannot block the rest.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import ray


class EndpointGate:
    def __init__(self, limit: int):
        self.limit = limit
        self.leases: dict[str, float] = {}
        self.changed = asyncio.Condition()

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, until in self.leases.items() if until < now]:
            del self.leases[token]

    async def acquire(self, lease_s: float, wait_s: float) -> str:
        """A lease token, or "" when no slot came free within wait_s."""
        give_up = time.monotonic() + wait_s
        async with self.changed:
            while True:
                self._expire()
                if len(self.leases) < self.limit:
                    token = uuid.uuid4().hex
                    self.leases[token] = time.monotonic() + lease_s
                    return token
                left = give_up - time.monotonic()
                if left <= 0:
                    return ""
                try:
                    await asyncio.wait_for(self.changed.wait(), timeout=min(left, 1.0))
                except asyncio.TimeoutError:
                    pass

    async def release(self, token: str) -> None:
        async with self.changed:
            self.leases.pop(token, None)
            self.changed.notify_all()

    def in_use(self) -> int:
        self._expire()
        return len(self.leases)


class GateSlot:
    """`with slot:` around one try; the same shape as a threading semaphore, so the client takes either."""

    def __init__(self, gate, lease_s: float, wait_s: float = 3600.0):
        self.gate, self.lease_s, self.wait_s = gate, lease_s, wait_s
        self.token = ""

    def __enter__(self) -> GateSlot:
        self.token = ray.get(self.gate.acquire.remote(self.lease_s, self.wait_s))
        if not self.token:
            raise TimeoutError(f"no request slot at the endpoint came free in {self.wait_s:.0f} s")
        return self

    def __exit__(self, *exc) -> None:
        self.gate.release.remote(self.token)


def start_gates(endpoints: dict[str, int]) -> dict[str, ray.actor.ActorHandle]:
    """One gate per distinct base_url; the limit is the smallest any role asked of that endpoint."""
    remote = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(EndpointGate)
    return {url: remote.remote(limit) for url, limit in endpoints.items()}
