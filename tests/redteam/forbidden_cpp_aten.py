"""A C++ extension that just calls at::mm (what the extension links is checked)."""
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

SOURCE = """
#include <torch/extension.h>
torch::Tensor product(torch::Tensor a, torch::Tensor b) { return torch::mm(a, b); }
"""
ext = load_inline("stark_redteam_cpp_mm", cpp_sources=SOURCE, functions=["product"], extra_cflags=["-O1"])


class ModelNew(nn.Module):
    def forward(self, a, b):
        return ext.product(a, b)
