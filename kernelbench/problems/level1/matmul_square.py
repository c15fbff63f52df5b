"""Square matrix product: the classic compute-bound kernel."""

import torch
import torch.nn as nn

n = 4096
CPU_SHAPES = {"n": 256}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


def get_inputs():
    return [torch.randn(n, n), torch.randn(n, n)]


def get_init_inputs():
    return []
