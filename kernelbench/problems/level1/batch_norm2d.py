"""BatchNorm2d in inference mode (running statistics), per-channel affine."""

import torch
import torch.nn as nn

batch_size = 16
features = 64
size = 256
CPU_SHAPES = {"batch_size": 4, "features": 16, "size": 32}


class Model(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(features)
        self.norm.running_mean.uniform_(-0.5, 0.5)
        self.norm.running_var.uniform_(0.5, 2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x)


def get_inputs():
    return [torch.randn(batch_size, features, size, size)]


def get_init_inputs():
    return [features]
