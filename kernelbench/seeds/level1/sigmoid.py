"""Seed for level1/sigmoid: sigmoid over row blocks, optionally written straight into the output.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
WRITE_INTO_OUTPUT = False
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            if WRITE_INTO_OUTPUT:
                torch.sigmoid(x[rows], out=out[rows])
            else:
                out[rows] = torch.sigmoid(x[rows])
        return out
