"""Seed for level1/softmax: softmax over dim 1, by row blocks, natively or from its definition (max-shifted).

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
METHOD = "manual"  # choices: native, manual
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            if METHOD == "native":
                out[rows] = torch.softmax(x[rows], dim=1)
            else:
                shifted = x[rows] - x[rows].amax(dim=1, keepdim=True)
                out[rows] = shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)
        return out
