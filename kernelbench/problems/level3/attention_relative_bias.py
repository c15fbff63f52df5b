"""Bidirectional attention with a learned relative-position bias (Shaw et al. / T5 without buckets): a per-head
table indexed by the clipped offset j - i, gathered into every score; the table is the model's parameter."""

import torch
import torch.nn as nn

from kernelbench.attention_skeleton import attend, relative_positions

batch_size = 4
heads = 16
seq_len = 1024
head_dim = 64
max_distance = 128
CPU_SHAPES = {"batch_size": 1, "heads": 4, "seq_len": 256, "head_dim": 64, "max_distance": 32}
HELD_OUT_SHAPES = {"batch_size": 2, "heads": 2, "seq_len": 320, "head_dim": 64, "max_distance": 48}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(heads, 2 * max_distance + 1) * 0.5)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        positions = relative_positions(q.shape[2], k.shape[2], max_distance, q.device)
        return attend(q, k, v, bias=self.table[:, positions])


def get_inputs():
    return [torch.randn(batch_size, heads, seq_len, head_dim) for _ in range(3)]


def get_init_inputs():
    return []
