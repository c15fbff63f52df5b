"""Hoards 1 GiB blocks until the allocator refuses; the address-space limit must stop it, not the host."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        hoard = []
        while True:
            hoard.append(torch.empty(2**28))
