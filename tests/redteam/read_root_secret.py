"""Tries to read a file in root's home (the red-team test creates it): the sandbox hides /root entirely."""

import torch.nn as nn

SECRET = "/root/.stark-redteam-secret"


class ModelNew(nn.Module):
    def forward(self, x):
        with open(SECRET) as handle:
            print("stolen:", handle.read())
        return x.relu()
