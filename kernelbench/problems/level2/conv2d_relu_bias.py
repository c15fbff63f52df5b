"""Convolution, ReLU, then a learned per-channel bias."""

import torch
import torch.nn as nn

batch_size = 64
in_ch = 64
out_ch = 128
size = 128
CPU_SHAPES = {"batch_size": 2, "in_ch": 8, "out_ch": 16, "size": 24}


class Model(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=3)
        self.bias = nn.Parameter(torch.randn(out_ch, 1, 1) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x)) + self.bias


def get_inputs():
    return [torch.randn(batch_size, in_ch, size, size)]


def get_init_inputs():
    return [in_ch, out_ch]
