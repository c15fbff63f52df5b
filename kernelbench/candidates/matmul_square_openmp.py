"""Candidate for level1/matmul_square: a cache-blocked C++/OpenMP GEMM built with load_inline.

The block sizes are plain constants so a search (or a person) can tune them.
"""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

BLOCK_I = 64
BLOCK_K = 128

CPP_SOURCE = r"""
#include <torch/extension.h>
#include <omp.h>

torch::Tensor blocked_matmul(torch::Tensor a, torch::Tensor b, int64_t block_i, int64_t block_k) {
    TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "shape mismatch");
    a = a.contiguous();
    b = b.contiguous();
    const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
    auto c = torch::zeros({m, n}, a.options());
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    float* pc = c.data_ptr<float>();
    #pragma omp parallel for schedule(static)
    for (int64_t i0 = 0; i0 < m; i0 += block_i) {
        const int64_t i1 = std::min(i0 + block_i, m);
        for (int64_t k0 = 0; k0 < k; k0 += block_k) {
            const int64_t k1 = std::min(k0 + block_k, k);
            for (int64_t i = i0; i < i1; ++i) {
                float* row_c = pc + i * n;
                for (int64_t kk = k0; kk < k1; ++kk) {
                    const float a_ik = pa[i * k + kk];
                    const float* row_b = pb + kk * n;
                    #pragma omp simd
                    for (int64_t j = 0; j < n; ++j) row_c[j] += a_ik * row_b[j];
                }
            }
        }
    }
    return c;
}
"""

_extension = load_inline(
    name="stark_blocked_matmul",
    cpp_sources=CPP_SOURCE,
    functions=["blocked_matmul"],
    extra_cflags=["-O3", "-fopenmp", "-march=native"],
    extra_ldflags=["-fopenmp"],
)


class ModelNew(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _extension.blocked_matmul(a, b, BLOCK_I, BLOCK_K)
