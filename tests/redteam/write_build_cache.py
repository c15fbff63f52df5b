"""Plants a file in the shared build cache for a later candidate to load."""
import os

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        os.makedirs("/tmp/stark/cache/judged/planted", exist_ok=True)
        with open("/tmp/stark/cache/judged/planted/evil.so", "wb") as handle:
            handle.write(b"ELF")
        return torch.relu(x)
