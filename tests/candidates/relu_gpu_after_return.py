"""Returns its output unwritten and fills it on a side stream from a thread after the call has returned: work
done after the clock stops must not count (caught as a mismatch, or named as deferred work)."""

import threading
import time

import torch
import torch.nn as nn


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.stream = torch.cuda.Stream()

    def forward(self, x):
        out = torch.empty_like(x)

        def later():
            time.sleep(0.0005)
            with torch.cuda.stream(self.stream):
                torch.relu(x, out=out)

        threading.Thread(target=later, daemon=True).start()
        return out
