"""2D average pooling, kernel 2, stride 2."""

import torch
import torch.nn as nn

batch_size = 32
channels = 64
size = 256
CPU_SHAPES = {"batch_size": 4, "channels": 8, "size": 48}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs():
    return [torch.randn(batch_size, channels, size, size)]


def get_init_inputs():
    return []
