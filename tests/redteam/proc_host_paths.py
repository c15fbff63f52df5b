"""Looks for host paths (checkout, run directories, judge scratch) in every command line it can see."""
import os

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    text = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
                except OSError:
                    continue
                if "stark-judge" in text or "bwrap" in text or "pytest" in text:
                    raise RuntimeError(f"host path visible: {text[:200]}")
        return torch.relu(x)
