"""Seed for level3/attention_relative_bias: bidirectional attention with a learned relative-position bias table.

A C++/OpenMP flash-attention loop (load_inline): each task takes BLOCK_Q query rows of one head and walks the keys
in tiles of BLOCK_KV with an online softmax, so no score matrix is ever stored.  Written for the offline mutator:
the tunables start deliberately poor (one row, tiny tiles, a scalar dot product) and every setting
computes the same result.
"""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

heads = 16
max_distance = 128

# EVOLVE-BLOCK-START
BLOCK_Q = 1  # range: 1..128
BLOCK_KV = 2  # range: 1..512
SIMD_DOT = False
# EVOLVE-BLOCK-END

CPP_SOURCE = r"""
#include <torch/extension.h>
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

static inline float dot(const float* a, const float* b, int64_t n, bool simd) {
    float s = 0.0f;
    if (simd) {
        #pragma omp simd reduction(+:s)
        for (int64_t d = 0; d < n; ++d) s += a[d] * b[d];
    } else {
        for (int64_t d = 0; d < n; ++d) s += a[d] * b[d];
    }
    return s;
}

// The variant: which keys a query sees, what happens to a score, and the key range a query block can see.
struct Variant {
    const float* table; int64_t max_distance;
    bool visible(int64_t i, int64_t j) const { return true; }
    float score(float s, int64_t h, int64_t i, int64_t j) const { return s + table[h * (2 * max_distance + 1) + std::clamp<int64_t>(j - i, -max_distance, max_distance) + max_distance]; }
    int64_t first_key(int64_t i) const { return 0; }
    int64_t end_key(int64_t i) const { return std::numeric_limits<int64_t>::max(); }
};

torch::Tensor attention(torch::Tensor q, torch::Tensor k, torch::Tensor v, torch::Tensor table, int64_t block_q, int64_t block_kv,
                        bool simd, bool skip_masked) {
    TORCH_CHECK(q.dim() == 4 && k.dim() == 4 && v.dim() == 4, "q, k, v: [batch, heads, seq, dim]");
    q = q.contiguous(); k = k.contiguous(); v = v.contiguous();
    const int64_t batch = q.size(0), heads = q.size(1), seq = q.size(2), dim = q.size(3);
    const int64_t kv_heads = k.size(1), keys = k.size(2), group = heads / kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
    const float NEG_INF = -std::numeric_limits<float>::infinity();
    table = table.contiguous();
    const Variant variant{table.data_ptr<float>(), (table.size(1) - 1) / 2};
    auto out = torch::empty_like(q);
    const float* pq = q.data_ptr<float>();
    const float* pk = k.data_ptr<float>();
    const float* pv = v.data_ptr<float>();
    float* po = out.data_ptr<float>();
    const int64_t q_blocks = (seq + block_q - 1) / block_q;
    #pragma omp parallel for schedule(dynamic)
    for (int64_t task = 0; task < batch * heads * q_blocks; ++task) {
        const int64_t bh = task / q_blocks, h = bh % heads, b = bh / heads;
        const int64_t i0 = (task % q_blocks) * block_q, i1 = std::min(i0 + block_q, seq), rows = i1 - i0;
        const float* qh = pq + bh * seq * dim;
        const float* kh = pk + (b * kv_heads + h / group) * keys * dim;
        const float* vh = pv + (b * kv_heads + h / group) * keys * dim;
        std::vector<float> row_max(rows, NEG_INF), row_sum(rows, 0.0f), acc(rows * dim, 0.0f), tile(block_kv);
        const int64_t j_begin = skip_masked ? variant.first_key(i0) : 0;
        const int64_t j_end = skip_masked ? std::min(keys, variant.end_key(i1 - 1)) : keys;
        for (int64_t j0 = j_begin; j0 < j_end; j0 += block_kv) {
            const int64_t j1 = std::min(j0 + block_kv, j_end);
            for (int64_t i = i0; i < i1; ++i) {
                const int64_t r = i - i0;
                float tile_max = NEG_INF;
                for (int64_t j = j0; j < j1; ++j) {
                    float s = NEG_INF;
                    if (variant.visible(i, j)) s = variant.score(dot(qh + i * dim, kh + j * dim, dim, simd) * scale, h, i, j);
                    tile[j - j0] = s;
                    tile_max = std::max(tile_max, s);
                }
                if (tile_max == NEG_INF) continue;
                const float new_max = std::max(row_max[r], tile_max);
                const float correction = std::exp(row_max[r] - new_max);
                float* a = acc.data() + r * dim;
                row_sum[r] *= correction;
                for (int64_t d = 0; d < dim; ++d) a[d] *= correction;
                for (int64_t j = j0; j < j1; ++j) {
                    const float p = std::exp(tile[j - j0] - new_max);
                    row_sum[r] += p;
                    const float* vj = vh + j * dim;
                    for (int64_t d = 0; d < dim; ++d) a[d] += p * vj[d];
                }
                row_max[r] = new_max;
            }
        }
        for (int64_t i = i0; i < i1; ++i) {
            const float* a = acc.data() + (i - i0) * dim;
            float* o = po + (bh * seq + i) * dim;
            for (int64_t d = 0; d < dim; ++d) o[d] = a[d] / row_sum[i - i0];
        }
    }
    return out;
}
"""

_extension = load_inline(
    name="stark_attention_relative_bias",
    cpp_sources=CPP_SOURCE,
    functions=["attention"],
    extra_cflags=["-O3", "-fopenmp", "-march=native"],
    extra_ldflags=["-fopenmp"],
)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(heads, 2 * max_distance + 1) * 0.5)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return _extension.attention(q, k, v, self.table.detach(), BLOCK_Q, BLOCK_KV, SIMD_DOT, False)

