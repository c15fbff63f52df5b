"""Seed for level1/matmul_batched: a batched matrix product over blocks of the batch.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
BATCHES_PER_BLOCK = 1  # range: 1..4096
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        out = torch.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=a.dtype, device=a.device)
        for start in range(0, a.shape[0], BATCHES_PER_BLOCK):
            batches = slice(start, start + BATCHES_PER_BLOCK)
            out[batches] = torch.bmm(a[batches], b[batches])
        return out
