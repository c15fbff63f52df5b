"""Depthwise 3x3 convolution (one filter per channel), as in MobileNet."""

import torch
import torch.nn as nn

batch = 16
channels = 256
size = 128
CPU_SHAPES = {"batch": 2, "channels": 16, "size": 32}


class Model(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1, groups=channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


def get_inputs():
    return [torch.randn(batch, channels, size, size)]


def get_init_inputs():
    return [channels]
