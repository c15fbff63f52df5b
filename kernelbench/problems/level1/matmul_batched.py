"""Batched matrix product: many independent small GEMMs."""

import torch
import torch.nn as nn

batch = 128
m = 512
k = 1024
n = 1024
CPU_SHAPES = {"batch": 8, "m": 64, "k": 96, "n": 80}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.bmm(a, b)


def get_inputs():
    return [torch.randn(batch, m, k), torch.randn(batch, k, n)]


def get_init_inputs():
    return []
