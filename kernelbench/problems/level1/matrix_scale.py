"""Matrix times a scalar: a pure streaming kernel."""

import torch
import torch.nn as nn

m = 16384
n = 4096
CPU_SHAPES = {"m": 512, "n": 1024}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, a: torch.Tensor, s: float) -> torch.Tensor:
        return a * s


def get_inputs():
    return [torch.randn(m, n), 3.5]


def get_init_inputs():
    return []
