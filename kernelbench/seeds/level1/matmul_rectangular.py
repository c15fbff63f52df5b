"""Seed for level1/matmul_rectangular: a rectangular matrix product over row blocks of A.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 8  # range: 1..4096
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        out = torch.empty((a.shape[0], b.shape[1]), dtype=a.dtype, device=a.device)
        for start in range(0, a.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            out[rows] = torch.matmul(a[rows], b)
        return out
