"""Seed for level1/max_reduction: the maximum over dim 2 by row blocks, as amax or as max's values.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
METHOD = "max_values"  # choices: amax, max_values
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty((x.shape[0], x.shape[1]), dtype=x.dtype, device=x.device)
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            out[rows] = torch.amax(x[rows], dim=2) if METHOD == "amax" else torch.max(x[rows], dim=2).values
        return out
