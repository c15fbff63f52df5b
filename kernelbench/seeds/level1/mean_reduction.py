"""Seed for level1/mean_reduction: the mean over dim 1 by row blocks, as mean or as a sum divided.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
METHOD = "sum_div"  # choices: mean, sum_div
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty((x.shape[0], x.shape[2]), dtype=x.dtype, device=x.device)
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            out[rows] = torch.mean(x[rows], dim=1) if METHOD == "mean" else x[rows].sum(dim=1) / x.shape[1]
        return out
