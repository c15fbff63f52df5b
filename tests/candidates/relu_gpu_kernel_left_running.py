"""Correct, but keeps the GPU busy between its calls: a child process with a CUDA context of its own queues
seconds of spinning kernels, which run on while the runner's process group is stopped and share the device with
whatever the judge times next (the reference's calls too).  The judge must see the busy device and blame it."""

import subprocess
import sys

import torch
import torch.nn as nn

CHILD = """
import torch
first = True
while True:
    for _ in range(40):
        torch.cuda._sleep(200_000_000)     # ~0.1 s each on an H100
    if first:
        print("ready", flush=True)
        first = False
    torch.cuda.synchronize()
"""


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        if self.child.stdout.readline().strip() != "ready":   # construction waits until the child's kernels are queued
            raise RuntimeError(f"the child process failed: {self.child.stderr.read()[-1500:]}")

    def forward(self, x):
        return torch.relu(x)
