"""Seed for level1/conv2d_pointwise: a 1x1 convolution over batch blocks, as a convolution or a channel matmul.

Written for the offline mutator: the tunables start deliberately poor (a fine-grained row loop) so a search has
room to climb, and every setting computes the same result.
"""

import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
BATCH_PER_BLOCK = 1  # range: 1..1024
CHANNELS_LAST = True
METHOD = "matmul"  # choices: conv, matmul
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if CHANNELS_LAST:
            x = x.contiguous(memory_format=torch.channels_last)
        weight = self.conv.weight.reshape(self.conv.out_channels, -1)
        bias = self.conv.bias.reshape(1, -1, 1, 1)
        parts = []
        for start in range(0, x.shape[0], BATCH_PER_BLOCK):
            block = x[start:start + BATCH_PER_BLOCK]
            parts.append(self.conv(block) if METHOD == "conv" else torch.einsum("oc,bchw->bohw", weight, block) + bias)
        return torch.cat(parts).contiguous()
