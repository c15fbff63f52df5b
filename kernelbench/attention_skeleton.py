"""The one eager reference the attention-variant problems share: each variant is a choice of mask, score bias,
softcap or key/value layout around the same softmax(q k^T / sqrt(d)) v, so a candidate for one reads like one for
another and the family's results are comparable.  Written out in plain torch ops (no fused SDPA) so the reference
is the textbook definition."""

from __future__ import annotations

import torch


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, visible: torch.Tensor | None = None,
           bias: torch.Tensor | None = None, softcap: float | None = None) -> torch.Tensor:
    """q: [B, H, Sq, D]; k, v: [B, Hkv, Sk, D] with H a multiple of Hkv (grouped queries share a key head)."""
    if k.shape[1] != q.shape[1]:
        group = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
    scores = torch.matmul(q, k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    if softcap is not None:
        scores = softcap * torch.tanh(scores / softcap)
    if bias is not None:
        scores = scores + bias
    if visible is not None:
        scores = scores.masked_fill(~visible, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def causal_visible(queries: int, keys: int, window: int | None = None, device: torch.device | None = None
                   ) -> torch.Tensor:
    """[Sq, Sk] bool: query i (the last `queries` of `keys` positions) sees key j when j <= i, and when a window
    is given, i - j < window.  Made on the inputs' device: built on the host, a 2048x2048 mask costs a GPU
    reference more than its kernels (measured on an H100: 6 ms with 16 host threads, 28 ms with one)."""
    i = torch.arange(queries, device=device)[:, None] + (keys - queries)
    j = torch.arange(keys, device=device)[None, :]
    seen = j <= i
    if window is not None:
        seen &= (i - j) < window
    return seen


def alibi_slopes(heads: int, device: torch.device | None = None) -> torch.Tensor:
    """ALiBi's geometric slopes 2^(-8h/H) (Press et al.), for a power-of-two head count."""
    return torch.exp2(-8.0 * torch.arange(1, heads + 1, device=device, dtype=torch.float32) / heads)


def relative_positions(queries: int, keys: int, max_distance: int, device: torch.device | None = None
                       ) -> torch.Tensor:
    """[Sq, Sk] index into a bias table of 2*max_distance+1 entries: j - i clipped to ±max_distance."""
    offsets = torch.arange(keys, device=device)[None, :] - torch.arange(queries, device=device)[:, None]
    return offsets.clamp(-max_distance, max_distance) + max_distance
