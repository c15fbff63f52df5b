"""Linear layer followed by ReLU: the bias add and activation fuse into the GEMM epilogue."""

import torch
import torch.nn as nn

batch_size = 1024
in_features = 8192
out_features = 8192
CPU_SHAPES = {"batch_size": 64, "in_features": 256, "out_features": 192}


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


def get_inputs():
    return [torch.randn(batch_size, in_features)]


def get_init_inputs():
    return [in_features, out_features]
