"""Scaled dot-product attention written out: QK^T, softmax, times V (a flash-attention target)."""

import math

import torch
import torch.nn as nn

batch_size = 16
heads = 16
seq_len = 2048
head_dim = 128
CPU_SHAPES = {"batch_size": 2, "heads": 4, "seq_len": 128, "head_dim": 32}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        return torch.matmul(torch.softmax(scores, dim=-1), v)


def get_inputs():
    return [torch.randn(batch_size, heads, seq_len, head_dim) for _ in range(3)]


def get_init_inputs():
    return []
