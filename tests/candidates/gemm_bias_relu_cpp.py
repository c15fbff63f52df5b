"""A C++/OpenMP candidate for level2/gemm_bias_relu: the bias add and ReLU fused into one pass."""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_ext = load_inline(
    name="stark_test_gemm_bias_relu",
    cpp_sources=r"""
#include <torch/extension.h>
torch::Tensor gemm_bias_relu(torch::Tensor x, torch::Tensor w, torch::Tensor b) {
    auto y = torch::matmul(x, w.t());
    float* py = y.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    const int64_t rows = y.size(0), cols = y.size(1);
    #pragma omp parallel for
    for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
            const float v = py[i * cols + j] + pb[j];
            py[i * cols + j] = v > 0.f ? v : 0.f;
        }
    return y;
}
""",
    functions=["gemm_bias_relu"],
    extra_cflags=["-O2", "-fopenmp"],
    extra_ldflags=["-fopenmp"],
)


class ModelNew(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x):
        return _ext.gemm_bias_relu(x.contiguous(), self.linear.weight, self.linear.bias)
