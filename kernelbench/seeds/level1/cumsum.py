"""Seed for level1/cumsum: a prefix sum along dim 1 in column blocks, each block's sum carried into the next.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
COLUMNS_PER_BLOCK = 64  # range: 8..65536
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            carry = None
            for column in range(0, x.shape[1], COLUMNS_PER_BLOCK):
                columns = slice(column, column + COLUMNS_PER_BLOCK)
                block = torch.cumsum(x[rows, columns], dim=1)
                if carry is not None:
                    block += carry
                out[rows, columns] = block
                carry = block[:, -1:]
        return out
