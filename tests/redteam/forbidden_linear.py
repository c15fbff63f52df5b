"""Matrix product through F.linear."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ModelNew(nn.Module):
    def forward(self, a, b):
        return F.linear(a, b.t().contiguous())
