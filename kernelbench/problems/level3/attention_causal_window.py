"""Causal sliding-window attention (Mistral/Longformer local attention): each query sees the `window` keys up to
itself; everything outside the band is masked, so a kernel that skips the masked tiles does a fraction of the work."""

import torch
import torch.nn as nn

from kernelbench.attention_skeleton import attend, causal_visible

batch_size = 4
heads = 16
seq_len = 2048
head_dim = 64
window = 256
CPU_SHAPES = {"batch_size": 1, "heads": 4, "seq_len": 256, "head_dim": 64, "window": 64}
HELD_OUT_SHAPES = {"batch_size": 2, "heads": 2, "seq_len": 384, "head_dim": 64, "window": 96}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return attend(q, k, v, visible=causal_visible(q.shape[2], k.shape[2], window, q.device))


def get_inputs():
    return [torch.randn(batch_size, heads, seq_len, head_dim) for _ in range(3)]


def get_init_inputs():
    return []
