"""Seed for level1/matvec: a matrix-vector product over row blocks, as matmul or as a multiply-and-sum.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 8  # range: 1..65536
METHOD = "mul_sum"  # choices: matmul, mul_sum
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty((a.shape[0], 1), dtype=a.dtype, device=a.device)
        row_vector = x.reshape(1, -1)
        for start in range(0, a.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            if METHOD == "matmul":
                out[rows] = torch.matmul(a[rows], x)
            else:
                out[rows] = (a[rows] * row_vector).sum(dim=1, keepdim=True)
        return out
