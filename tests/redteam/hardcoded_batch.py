"""Correct only for the batch size it was tuned on: the second shape set must expose it."""

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        return torch.relu(x[:16])
