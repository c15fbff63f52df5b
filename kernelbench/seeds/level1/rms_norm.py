"""Seed for level1/rms_norm: RMS norm over dim 1 by row blocks, as a division by the root or a multiply by rsqrt.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
METHOD = "sqrt_div"  # choices: sqrt_div, rsqrt_mul
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self, eps: float):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            block = x[rows]
            mean_square = torch.mean(block * block, dim=1, keepdim=True) + self.eps
            if METHOD == "sqrt_div":
                out[rows] = block / torch.sqrt(mean_square)
            else:
                out[rows] = block * torch.rsqrt(mean_square)
        return out
