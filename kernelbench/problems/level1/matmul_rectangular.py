"""Rectangular matrix product (M, K) @ (K, N) with a long reduction axis."""

import torch
import torch.nn as nn

m = 1024
k = 4096
n = 2048
CPU_SHAPES = {"m": 128, "k": 384, "n": 96}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


def get_inputs():
    return [torch.randn(m, k), torch.randn(k, n)]


def get_init_inputs():
    return []
