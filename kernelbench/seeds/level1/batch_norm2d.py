"""Seed for level1/batch_norm2d: inference batch norm over batch blocks, as the module or one folded scale-and-shift.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
BATCH_PER_BLOCK = 1  # range: 1..1024
CHANNELS_LAST = True
METHOD = "folded"  # choices: module, folded
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self, features: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(features)
        self.norm.running_mean.uniform_(-0.5, 0.5)
        self.norm.running_var.uniform_(0.5, 2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if CHANNELS_LAST:
            x = x.contiguous(memory_format=torch.channels_last)
        scale = (self.norm.weight / torch.sqrt(self.norm.running_var + self.norm.eps)).reshape(1, -1, 1, 1)
        shift = self.norm.bias.reshape(1, -1, 1, 1) - self.norm.running_mean.reshape(1, -1, 1, 1) * scale
        parts = []
        for start in range(0, x.shape[0], BATCH_PER_BLOCK):
            block = x[start:start + BATCH_PER_BLOCK]
            parts.append(self.norm(block) if METHOD == "module" else block * scale + shift)
        return torch.cat(parts).contiguous()
