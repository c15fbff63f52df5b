"""Hands the product to numpy's BLAS."""
import numpy

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, a, b):
        return torch.from_numpy(numpy.matmul(a.numpy(), b.numpy()))
