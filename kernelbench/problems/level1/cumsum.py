"""Inclusive prefix sum along rows: a scan, hard to parallelize naively."""

import torch
import torch.nn as nn

batch_size = 32768
dim = 32768
CPU_SHAPES = {"batch_size": 64, "dim": 4096}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cumsum(x, dim=1)


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
