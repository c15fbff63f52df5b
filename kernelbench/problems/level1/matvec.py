"""Matrix-vector product: bandwidth-bound, one pass over the matrix."""

import torch
import torch.nn as nn

m = 4096
k = 131072
CPU_SHAPES = {"m": 256, "k": 8192}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, x)


def get_inputs():
    return [torch.randn(m, k), torch.randn(k, 1)]


def get_init_inputs():
    return []
