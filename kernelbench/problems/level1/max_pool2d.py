"""2D max pooling, kernel 3, stride 2, padding 1."""

import torch
import torch.nn as nn

batch_size = 32
channels = 64
size = 256
CPU_SHAPES = {"batch_size": 4, "channels": 8, "size": 48}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


def get_inputs():
    return [torch.randn(batch_size, channels, size, size)]


def get_init_inputs():
    return []
