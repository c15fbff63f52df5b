"""Seed for level1/sum_reduction: the sum over dim 1 (kept) by row blocks, as sum or as an einsum.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
METHOD = "einsum"  # choices: sum, einsum
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty((x.shape[0], 1, x.shape[2]), dtype=x.dtype, device=x.device)
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            if METHOD == "sum":
                out[rows] = torch.sum(x[rows], dim=1, keepdim=True)
            else:
                out[rows] = torch.einsum("bij->bj", x[rows]).unsqueeze(1)
        return out
