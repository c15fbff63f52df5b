"""Calls torch.mm under another name (resolve_name of the old check saw a different op)."""
import torch
import torch.nn as nn

multiply = torch.mm


class ModelNew(nn.Module):
    def forward(self, a, b):
        return multiply(a, b)
