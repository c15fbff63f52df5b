"""3x3 convolution with padding 1, stride 1."""

import torch
import torch.nn as nn

batch = 16
in_ch = 64
out_ch = 128
size = 128
CPU_SHAPES = {"batch": 2, "in_ch": 8, "out_ch": 16, "size": 24}


class Model(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs():
    return [torch.randn(batch, in_ch, size, size)]


def get_init_inputs():
    return [in_ch, out_ch]
