"""A @ B.T, where B is stored row-major (the layout of a linear layer's weight)."""

import torch
import torch.nn as nn

m = 2048
k = 4096
n = 2048
CPU_SHAPES = {"m": 128, "k": 256, "n": 160}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b.T)


def get_inputs():
    return [torch.randn(m, k), torch.randn(n, k)]


def get_init_inputs():
    return []
