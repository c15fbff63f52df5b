import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
def relu_kernel(x):
    # fast path
    return torch.relu(x) * 1.0
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x):
        return relu_kernel(x)
