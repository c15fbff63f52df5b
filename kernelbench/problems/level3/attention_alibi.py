"""Causal attention with ALiBi (Press et al.): a per-head linear penalty on distance added to the scores in place of
position embeddings; the bias is computed, not loaded, so a kernel fuses it into the score tile."""

import torch
import torch.nn as nn

from kernelbench.attention_skeleton import alibi_slopes, attend, causal_visible

batch_size = 4
heads = 16
seq_len = 2048
head_dim = 64
CPU_SHAPES = {"batch_size": 1, "heads": 4, "seq_len": 256, "head_dim": 64}
HELD_OUT_SHAPES = {"batch_size": 2, "heads": 2, "seq_len": 384, "head_dim": 64}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        s_q, s_k = q.shape[2], k.shape[2]
        distance = (torch.arange(s_q, device=q.device)[:, None] + (s_k - s_q)
                    - torch.arange(s_k, device=q.device)[None, :]).to(q.dtype)
        bias = -alibi_slopes(q.shape[1], q.device).to(q.dtype)[:, None, None] * distance
        return attend(q, k, v, bias=bias, visible=causal_visible(s_q, s_k, device=q.device))


def get_inputs():
    return [torch.randn(batch_size, heads, seq_len, head_dim) for _ in range(3)]


def get_init_inputs():
    return []
