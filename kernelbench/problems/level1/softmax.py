"""Row-wise softmax: a reduction (max, sum) then an elementwise pass."""

import torch
import torch.nn as nn

batch_size = 4096
dim = 393216
CPU_SHAPES = {"batch_size": 32, "dim": 8192}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=1)


def get_inputs():
    return [torch.randn(batch_size, dim)]


def get_init_inputs():
    return []
