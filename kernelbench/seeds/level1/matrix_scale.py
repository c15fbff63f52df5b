"""Seed for level1/matrix_scale: a matrix times a scalar over row blocks, optionally written into the output.

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
    def forward(self, a: torch.Tensor, s: float) -> torch.Tensor:
        out = torch.empty_like(a)
        for start in range(0, a.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            if WRITE_INTO_OUTPUT:
                torch.mul(a[rows], s, out=out[rows])
            else:
                out[rows] = a[rows] * s
        return out
