"""Causal grouped-query attention (GQA, Ainslie et al.): `heads` query heads share `kv_heads` key/value heads, so a
kernel that loads each key tile once for its whole group moves a fraction of the reference's bytes."""

import torch
import torch.nn as nn

from kernelbench.attention_skeleton import attend, causal_visible

batch_size = 4
heads = 32
kv_heads = 8
seq_len = 2048
head_dim = 64
CPU_SHAPES = {"batch_size": 1, "heads": 8, "kv_heads": 2, "seq_len": 256, "head_dim": 64}
HELD_OUT_SHAPES = {"batch_size": 2, "heads": 4, "kv_heads": 1, "seq_len": 320, "head_dim": 64}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return attend(q, k, v, visible=causal_visible(q.shape[2], k.shape[2], device=q.device))


def get_inputs():
    return [torch.randn(batch_size, heads, seq_len, head_dim),
            torch.randn(batch_size, kv_heads, seq_len, head_dim),
            torch.randn(batch_size, kv_heads, seq_len, head_dim)]


def get_init_inputs():
    return []
