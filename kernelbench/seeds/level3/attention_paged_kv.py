"""Seed for level3/attention_paged_kv: a decode step over a paged KV cache read in place through the block table.

A C++/OpenMP flash-decoding loop (load_inline): each (sequence, head) splits its keys into SPLITS chunks, each chunk
walks its keys in tiles of BLOCK_KV with an online softmax, and the chunks' partial results are merged by their
log-sum-exp.  Written for the offline mutator: the tunables start deliberately poor (many splits, tiny tiles, a
scalar dot product) and every setting computes the same result.
"""

import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

# EVOLVE-BLOCK-START
SPLITS = 64  # range: 1..256
BLOCK_KV = 2  # range: 1..1024
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

// Where key j of (sequence b, head h) lives: page block_table[b][j / page_size], row j % page_size.
struct Pages {
    const float* k; const float* v; const int32_t* table; const int32_t* lengths;
    int64_t pages_per_sequence, page_size, heads, dim;
    int64_t length(int64_t b) const { return lengths[b]; }
    int64_t row(int64_t b, int64_t h, int64_t j) const {
        const int64_t page = table[b * pages_per_sequence + j / page_size];
        return ((page * page_size + j % page_size) * heads + h) * dim;
    }
    const float* key(int64_t b, int64_t h, int64_t j) const { return k + row(b, h, j); }
    const float* value(int64_t b, int64_t h, int64_t j) const { return v + row(b, h, j); }
};

torch::Tensor decode(torch::Tensor q, torch::Tensor k_pages, torch::Tensor v_pages, torch::Tensor block_table, torch::Tensor seq_lens, int64_t splits, int64_t block_kv, bool simd) {
    TORCH_CHECK(q.dim() == 3 && k_pages.dim() == 4, "q: [batch, heads, dim]; pages: [pages, page_size, heads, dim]");
    TORCH_CHECK(block_table.scalar_type() == torch::kInt32 && seq_lens.scalar_type() == torch::kInt32, "int32 tables");
    q = q.contiguous(); k_pages = k_pages.contiguous(); v_pages = v_pages.contiguous();
    block_table = block_table.contiguous(); seq_lens = seq_lens.contiguous();
    const int64_t batch = q.size(0), heads = q.size(1), dim = q.size(2);
    const Pages keys{k_pages.data_ptr<float>(), v_pages.data_ptr<float>(), block_table.data_ptr<int32_t>(),
                     seq_lens.data_ptr<int32_t>(), block_table.size(1), k_pages.size(1), heads, dim};
    const float* pq = q.data_ptr<float>();
    const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
    const float NEG_INF = -std::numeric_limits<float>::infinity();
    const int64_t tasks = batch * heads * splits;
    std::vector<float> part_max(tasks, NEG_INF), part_sum(tasks, 0.0f), part_acc(tasks * dim, 0.0f);
    #pragma omp parallel for schedule(dynamic)
    for (int64_t task = 0; task < tasks; ++task) {
        const int64_t bh = task / splits, split = task % splits, b = bh / heads, h = bh % heads;
        const int64_t length = keys.length(b), chunk = (length + splits - 1) / splits;
        const int64_t j_begin = std::min(length, split * chunk), j_end = std::min(length, j_begin + chunk);
        const float* qh = pq + bh * dim;
        float* a = part_acc.data() + task * dim;
        std::vector<float> tile(block_kv);
        float row_max = NEG_INF, row_sum = 0.0f;
        for (int64_t j0 = j_begin; j0 < j_end; j0 += block_kv) {
            const int64_t j1 = std::min(j0 + block_kv, j_end);
            float tile_max = NEG_INF;
            for (int64_t j = j0; j < j1; ++j) {
                tile[j - j0] = dot(qh, keys.key(b, h, j), dim, simd) * scale;
                tile_max = std::max(tile_max, tile[j - j0]);
            }
            const float new_max = std::max(row_max, tile_max);
            const float correction = std::exp(row_max - new_max);
            row_sum *= correction;
            for (int64_t d = 0; d < dim; ++d) a[d] *= correction;
            for (int64_t j = j0; j < j1; ++j) {
                const float p = std::exp(tile[j - j0] - new_max);
                row_sum += p;
                const float* vj = keys.value(b, h, j);
                for (int64_t d = 0; d < dim; ++d) a[d] += p * vj[d];
            }
            row_max = new_max;
        }
        part_max[task] = row_max;
        part_sum[task] = row_sum;
    }
    auto out = torch::empty_like(q);
    float* po = out.data_ptr<float>();
    for (int64_t bh = 0; bh < batch * heads; ++bh) {
        float best = NEG_INF, total = 0.0f;
        for (int64_t s = 0; s < splits; ++s) best = std::max(best, part_max[bh * splits + s]);
        float* o = po + bh * dim;
        std::fill(o, o + dim, 0.0f);
        for (int64_t s = 0; s < splits; ++s) {
            const int64_t t = bh * splits + s;
            if (part_sum[t] == 0.0f) continue;
            const float w = std::exp(part_max[t] - best);
            total += w * part_sum[t];
            for (int64_t d = 0; d < dim; ++d) o[d] += w * part_acc[t * dim + d];
        }
        for (int64_t d = 0; d < dim; ++d) o[d] /= total;
    }
    return out;
}
"""

_extension = load_inline(
    name="stark_attention_paged_kv",
    cpp_sources=CPP_SOURCE,
    functions=["decode"],
    extra_cflags=["-O3", "-fopenmp", "-march=native"],
    extra_ldflags=["-fopenmp"],
)


class ModelNew(nn.Module):
    def forward(self, q: torch.Tensor, k_pages: torch.Tensor, v_pages: torch.Tensor, block_table: torch.Tensor,
                seq_lens: torch.Tensor) -> torch.Tensor:
        return _extension.decode(q, k_pages, v_pages, block_table, seq_lens, SPLITS, BLOCK_KV, SIMD_DOT)

