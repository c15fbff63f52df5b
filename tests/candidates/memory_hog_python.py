"""Grows a Python list of byte strings: a MemoryError rather than a torch allocator error."""

import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        hoard = []
        while True:
            hoard.append(bytearray(256 * 2**20))
