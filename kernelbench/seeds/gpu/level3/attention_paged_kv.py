"""GPU seed for level3/attention_paged_kv: a decode step over a paged KV cache read in place through the block table.

A Triton flash-decoding kernel: each program takes one (sequence, head) and one of SPLITS chunks of its keys,
walks the chunk in tiles of BLOCK_N with an online softmax, and writes a partial (max, sum, accumulator); a few
torch ops merge the partials by their log-sum-exp.  Splits, tile, warps and pipeline depth are the evolvable
constants; on the CPU it runs in Triton's interpreter (correctness only).
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

# EVOLVE-BLOCK-START
SPLITS = 1  # range: 1..128
BLOCK_N = 16  # range: 16..256
NUM_WARPS = 4  # range: 1..8
NUM_STAGES = 1  # range: 1..4
# EVOLVE-BLOCK-END


@triton.jit
def _decode_kernel(q_ptr, k_ptr, v_ptr, max_ptr, sum_ptr, acc_ptr, heads, scale, table_ptr, lens_ptr, pages_per_sequence, page_size,
                   SPLITS: tl.constexpr, HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr):
    bh = tl.program_id(0)
    split = tl.program_id(1)
    b = bh // heads
    h = bh % heads
    length = tl.load(lens_ptr + b)
    chunk = tl.cdiv(length, SPLITS)
    begin = split * chunk
    end = tl.minimum(length, begin + chunk)
    dims = tl.arange(0, HEAD_DIM)
    q = tl.load(q_ptr + bh * HEAD_DIM + dims)
    row_max = float("-inf")
    row_sum = 0.0
    acc = tl.zeros((HEAD_DIM,), tl.float32)
    for start in range(begin, end, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        inside = cols < end
        page = tl.load(table_ptr + b * pages_per_sequence + cols // page_size, mask=inside, other=0)
        rows = ((page.to(tl.int64) * page_size + cols % page_size) * heads + h) * HEAD_DIM
        k = tl.load(k_ptr + rows[:, None] + dims[None, :], mask=inside[:, None], other=0.0)
        s = tl.where(inside, tl.sum(q[None, :] * k, 1) * scale, float("-inf"))
        new_max = tl.maximum(row_max, tl.max(s, 0))
        p = tl.exp(s - new_max)
        correction = tl.exp(row_max - new_max)
        v = tl.load(v_ptr + rows[:, None] + dims[None, :], mask=inside[:, None], other=0.0)
        acc = acc * correction + tl.sum(p[:, None] * v, 0)
        row_sum = row_sum * correction + tl.sum(p, 0)
        row_max = new_max
    part = bh * SPLITS + split
    tl.store(max_ptr + part, row_max)
    tl.store(sum_ptr + part, row_sum)
    tl.store(acc_ptr + part * HEAD_DIM + dims, acc)


class ModelNew(nn.Module):
    def forward(self, q: torch.Tensor, k_pages: torch.Tensor, v_pages: torch.Tensor, block_table: torch.Tensor,
                seq_lens: torch.Tensor) -> torch.Tensor:
        q, k_pages, v_pages = q.contiguous(), k_pages.contiguous(), v_pages.contiguous()
        block_table, seq_lens = block_table.contiguous(), seq_lens.contiguous()
        batch, heads, dim = q.shape
        parts = (batch * heads, SPLITS)
        part_max = torch.empty(parts, device=q.device, dtype=torch.float32)
        part_sum = torch.empty(parts, device=q.device, dtype=torch.float32)
        part_acc = torch.empty((*parts, dim), device=q.device, dtype=torch.float32)
        _decode_kernel[parts](q, k_pages, v_pages, part_max, part_sum, part_acc, heads, dim ** -0.5, block_table, seq_lens, block_table.shape[1], k_pages.shape[1],
                              SPLITS=SPLITS, HEAD_DIM=dim, BLOCK_N=BLOCK_N, num_warps=NUM_WARPS,
                              num_stages=NUM_STAGES)
        weight = torch.exp(part_max - part_max.amax(dim=1, keepdim=True)).nan_to_num(0.0)
        out = (weight[..., None] * part_acc).sum(1) / (weight * part_sum).sum(1, keepdim=True)
        return out.reshape(batch, heads, dim)
