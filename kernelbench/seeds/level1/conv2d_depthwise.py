"""Seed for level1/conv2d_depthwise: a depthwise 3x3 convolution over batch blocks, optionally channels-last.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
BATCH_PER_BLOCK = 1  # range: 1..1024
CHANNELS_LAST = True
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1, groups=channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if CHANNELS_LAST:
            x = x.contiguous(memory_format=torch.channels_last)
        parts = []
        for start in range(0, x.shape[0], BATCH_PER_BLOCK):
            block = x[start:start + BATCH_PER_BLOCK]
            parts.append(self.conv(block))
        return torch.cat(parts).contiguous()
