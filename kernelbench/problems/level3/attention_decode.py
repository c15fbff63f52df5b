"""One decode step against a long KV cache (flash-decoding's case): a single query per head attends to every cached
key, so the work is a matrix-vector product bound by reading the cache, and the parallelism left is across heads
and splits of the cache."""

import torch
import torch.nn as nn

from kernelbench.attention_skeleton import attend

batch_size = 8
heads = 32
cache_len = 16384
head_dim = 128
CPU_SHAPES = {"batch_size": 2, "heads": 8, "cache_len": 4096, "head_dim": 64}
HELD_OUT_SHAPES = {"batch_size": 1, "heads": 4, "cache_len": 3000, "head_dim": 64}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k_cache: torch.Tensor, v_cache: torch.Tensor) -> torch.Tensor:
        return attend(q, k_cache, v_cache)


def get_inputs():
    return [torch.randn(batch_size, heads, 1, head_dim),
            torch.randn(batch_size, heads, cache_len, head_dim),
            torch.randn(batch_size, heads, cache_len, head_dim)]


def get_init_inputs():
    return []
