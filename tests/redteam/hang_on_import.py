import time

import torch.nn as nn

time.sleep(10_000)


class ModelNew(nn.Module):
    def forward(self, x):
        return x.relu()
