"""Seed for level1/layer_norm: layer norm over row blocks, as the module or from its definition.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
ROWS_PER_BLOCK = 2  # range: 1..4096
METHOD = "manual"  # choices: module, manual
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self, normalized_shape: tuple):
        super().__init__()
        self.norm = nn.LayerNorm(normalized_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        dims = tuple(range(1, x.dim()))
        for start in range(0, x.shape[0], ROWS_PER_BLOCK):
            rows = slice(start, start + ROWS_PER_BLOCK)
            if METHOD == "module":
                out[rows] = self.norm(x[rows])
            else:
                block = x[rows]
                mean = block.mean(dim=dims, keepdim=True)
                var = block.var(dim=dims, keepdim=True, unbiased=False)
                out[rows] = (block - mean) / torch.sqrt(var + self.norm.eps) * self.norm.weight + self.norm.bias
        return out
