"""GPU seed for level3/attention_alibi: causal attention with ALiBi distance penalties.

A Triton flash-attention forward: each program takes BLOCK_M query rows of one head, walks the keys in tiles of
BLOCK_N with an online softmax (fp32, IEEE products: TF32 would fail the fp32 tolerance), and visits every key tile, masked or not, until SKIP_MASKED is set.  Tile
shape, warps and pipeline depth are the evolvable constants; on the CPU it runs in Triton's interpreter
(correctness only).
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

# EVOLVE-BLOCK-START
BLOCK_M = 16  # range: 16..128
BLOCK_N = 16  # range: 16..128
NUM_WARPS = 4  # range: 1..8
NUM_STAGES = 1  # range: 1..4
SKIP_MASKED = False
# EVOLVE-BLOCK-END


@triton.jit
def _attention_kernel(q_ptr, k_ptr, v_ptr, o_ptr, seq, keys, heads, kv_heads, scale, 
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
        hi = tl.minimum(keys, (pid_m + 1) * BLOCK_M)
    for start in range(lo, hi, BLOCK_N):
        cols = start + tl.arange(0, BLOCK_N)
        k = tl.load(k_ptr + (kv_base + cols[:, None]) * HEAD_DIM + dims[None, :], mask=cols[:, None] < keys, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision="ieee") * scale
        slope = tl.exp2(-8.0 * (h + 1) / heads)
        s = s - slope * (rows[:, None] - cols[None, :]).to(tl.float32)
        seen = cols[None, :] <= rows[:, None]
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
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        batch, heads, seq, dim = q.shape
        out = torch.empty_like(q)
        grid = (triton.cdiv(seq, BLOCK_M), batch * heads)
        _attention_kernel[grid](q, k, v, out, seq, k.shape[2], heads, k.shape[1], dim ** -0.5, 
                                HEAD_DIM=dim, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, SKIP_MASKED=SKIP_MASKED,
                                num_warps=NUM_WARPS, num_stages=NUM_STAGES)
        return out
