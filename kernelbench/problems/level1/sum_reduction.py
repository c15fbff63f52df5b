"""Sum over the middle axis, keeping it as size 1."""

import torch
import torch.nn as nn

batch_size = 128
dim1 = 4096
dim2 = 4095
CPU_SHAPES = {"batch_size": 16, "dim1": 256, "dim2": 255}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sum(x, dim=1, keepdim=True)


def get_inputs():
    return [torch.randn(batch_size, dim1, dim2)]


def get_init_inputs():
    return []
