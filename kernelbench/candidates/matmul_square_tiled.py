"""Seed for evolving level1/matmul_square: a tiled C++/OpenMP GEMM whose tile sizes are runtime arguments.

The tile sizes start deliberately small; the evolvable region holds them (and the kernel), so a search
can retune without recompiling the unchanged C++ source (the evaluator caches builds per source).
"""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

# EVOLVE-BLOCK-START
BLOCK_I = 4  # range: 1..256
BLOCK_J = 16  # range: 8..1024
BLOCK_K = 4  # range: 1..512

CPP_SOURCE = r"""
#include <torch/extension.h>
#include <algorithm>

torch::Tensor tiled_matmul(torch::Tensor a, torch::Tensor b, int64_t bi, int64_t bj, int64_t bk) {
    TORCH_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "shape mismatch");
    a = a.contiguous();
    b = b.contiguous();
    const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
    auto c = torch::zeros({m, n}, a.options());
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    float* pc = c.data_ptr<float>();
    #pragma omp parallel for collapse(2) schedule(static)
    for (int64_t i0 = 0; i0 < m; i0 += bi) {
        for (int64_t j0 = 0; j0 < n; j0 += bj) {
            const int64_t i1 = std::min(i0 + bi, m), j1 = std::min(j0 + bj, n);
            for (int64_t k0 = 0; k0 < k; k0 += bk) {
                const int64_t k1 = std::min(k0 + bk, k);
                for (int64_t i = i0; i < i1; ++i) {
                    float* row_c = pc + i * n;
                    for (int64_t kk = k0; kk < k1; ++kk) {
                        const float a_ik = pa[i * k + kk];
                        const float* row_b = pb + kk * n;
                        #pragma omp simd
                        for (int64_t j = j0; j < j1; ++j) row_c[j] += a_ik * row_b[j];
                    }
                }
            }
        }
    }
    return c;
}
"""
# EVOLVE-BLOCK-END

_extension = load_inline(
    name="stark_tiled_matmul",
    cpp_sources=CPP_SOURCE,
    functions=["tiled_matmul"],
    extra_cflags=["-O3", "-fopenmp", "-march=native"],
    extra_ldflags=["-fopenmp"],
)


class ModelNew(nn.Module):
    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _extension.tiled_matmul(a, b, BLOCK_I, BLOCK_J, BLOCK_K)
