"""Seeding torch's generators for one backend."""

from __future__ import annotations

import torch


def seed_torch(seed: int, backend: str) -> None:
    """torch.manual_seed also queues the seeding of every accelerator torch was built for, formatting a stack
    trace for each (about a millisecond a call); on the CPU backend only the CPU generator draws anything."""
    if backend == "cpu":
        torch.random.default_generator.manual_seed(seed)
    else:
        torch.manual_seed(seed)
