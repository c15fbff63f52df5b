"""1x1 convolution: a GEMM over channels at every pixel."""

import torch
import torch.nn as nn

batch = 16
in_ch = 256
out_ch = 512
size = 64
CPU_SHAPES = {"batch": 2, "in_ch": 32, "out_ch": 48, "size": 16}


class Model(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs():
    return [torch.randn(batch, in_ch, size, size)]


def get_init_inputs():
    return [in_ch, out_ch]
