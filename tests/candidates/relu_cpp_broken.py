"""A C++ candidate whose source does not compile: the build error must reach the user."""

import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_ext = load_inline(
    name="stark_test_broken",
    cpp_sources="torch::Tensor relu_broken(torch::Tensor x) { return x.this_method_does_not_exist(); }",
    functions=["relu_broken"],
)


class ModelNew(nn.Module):
    def forward(self, x):
        return _ext.relu_broken(x)
