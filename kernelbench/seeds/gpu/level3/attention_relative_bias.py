"""GPU seed for level3/attention_relative_bias: bidirectional attention with a learned relative-position bias table.

A Triton flash-attention forward: each program takes BLOCK_M query rows of one head, walks the keys in tiles of
BLOCK_N with an online softmax (fp32, IEEE products: TF32 would fail the fp32 tolerance), and visits every key tile (nothing is masked).  Tile
shape, warps and pipeline depth are the evolvable constants; on the CPU it runs in Triton's interpreter
(correctness only).
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

heads = 16  # the problem's sizes (the judge sets them)
max_distance = 128

# EVOLVE-BLOCK-START
BLOCK_M = 16  # range: 16..128
BLOCK_N = 16  # range: 16..128
NUM_WARPS = 4  # range: 1..8
NUM_STAGES = 1  # range: 1..4
# EVOLVE-BLOCK-END


@triton.jit
def _attention_kernel(q_ptr, k_ptr, v_ptr, o_ptr, seq, keys, heads, kv_heads, scale, table_ptr, max_distance,
                      HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, SKIP_MASKED: tl.constexpr):
    pid_m = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // heads
    h = bh % heads
    kv_base = (b * kv_heads + h // (heads // kv_heads)) * keys
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    dims = tl.arange(0, HEAD_DIM)
    q = tl.load(q_ptr + (bh * seq + rows[:, None]) * HEAD_DIM + dims[None, :], mask=rows[:, None] < seq, other=0.0)
    row_max = tl.full((BLOCK_M,), float("-inf"), tl.float32)
    row_sum = tl.zeros((BLOCK_M,), tl.float32)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), tl.float32)
    lo = 0
    hi = keys
    if SKIP_MASKED:
        pass
    for start in range(lo, hi, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        k = tl.load(k_ptr + (kv_base + cols[:, None]) * HEAD_DIM + dims[None, :], mask=cols[:, None] < keys, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision="ieee") * scale
        offset = tl.minimum(tl.maximum(cols[None, :] - rows[:, None], -max_distance), max_distance)
        s = s + tl.load(table_ptr + h * (2 * max_distance + 1) + offset + max_distance)
        seen = cols[None, :] >= 0
        s = tl.where(seen & (cols[None, :] < keys), s, float("-inf"))
        new_max = tl.maximum(row_max, tl.max(s, 1))
        safe_max = tl.where(new_max == float("-inf"), 0.0, new_max)
        p = tl.exp(s - safe_max[:, None])
        correction = tl.exp(row_max - safe_max)
        v = tl.load(v_ptr + (kv_base + cols[:, None]) * HEAD_DIM + dims[None, :], mask=cols[:, None] < keys, other=0.0)
        acc = acc * correction[:, None] + tl.dot(p, v, input_precision="ieee")
        row_sum = row_sum * correction + tl.sum(p, 1)
        row_max = new_max
    out = acc / row_sum[:, None]
    tl.store(o_ptr + (bh * seq + rows[:, None]) * HEAD_DIM + dims[None, :], out, mask=rows[:, None] < seq)


class ModelNew(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(heads, 2 * max_distance + 1) * 0.5)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        batch, heads, seq, dim = q.shape
        out = torch.empty_like(q)
        grid = (triton.cdiv(seq, BLOCK_M), batch * heads)
        _attention_kernel[grid](q, k, v, out, seq, k.shape[2], heads, k.shape[1], dim ** -0.5, self.table.detach(), (self.table.shape[1] - 1) // 2,
                                HEAD_DIM=dim, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, SKIP_MASKED=False,
                                num_warps=NUM_WARPS, num_stages=NUM_STAGES)
        return out
