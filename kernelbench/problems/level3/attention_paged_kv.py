"""A decode step over a paged KV cache (vLLM's PagedAttention): keys and values live in fixed-size pages of a shared
pool, each sequence's pages are listed in a block table, and sequences have different lengths.  The reference
gathers the pages into contiguous tensors first; a kernel reads them in place."""

import torch
import torch.nn as nn

from kernelbench.attention_skeleton import attend

batch_size = 16
heads = 32
head_dim = 128
page_size = 16
pages_per_sequence = 256
CPU_SHAPES = {"batch_size": 4, "heads": 8, "head_dim": 64, "page_size": 16, "pages_per_sequence": 64}
HELD_OUT_SHAPES = {"batch_size": 3, "heads": 4, "head_dim": 64, "page_size": 8, "pages_per_sequence": 50}


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, q: torch.Tensor, k_pages: torch.Tensor, v_pages: torch.Tensor, block_table: torch.Tensor,
                seq_lens: torch.Tensor) -> torch.Tensor:
        """q: [B, H, D]; k_pages, v_pages: [pages, page_size, H, D]; block_table: [B, pages_per_sequence] int32;
        seq_lens: [B] int32 (at least 1)."""
        batch, pages = block_table.shape
        size = k_pages.shape[1]
        keys = k_pages[block_table.long()].reshape(batch, pages * size, *k_pages.shape[2:]).transpose(1, 2)
        values = v_pages[block_table.long()].reshape(batch, pages * size, *v_pages.shape[2:]).transpose(1, 2)
        visible = torch.arange(pages * size, device=q.device)[None, :] < seq_lens.to(q.device).long()[:, None]
        return attend(q[:, :, None, :], keys, values, visible=visible[:, None, None, :])[:, :, 0, :]


def get_inputs():
    pool = batch_size * pages_per_sequence
    block_table = torch.randperm(pool).reshape(batch_size, pages_per_sequence).to(torch.int32)
    seq_lens = torch.randint(1, pages_per_sequence * page_size + 1, (batch_size,), dtype=torch.int32)
    return [torch.randn(batch_size, heads, head_dim),
            torch.randn(pool, page_size, heads, head_dim),
            torch.randn(pool, page_size, heads, head_dim),
            block_table, seq_lens]


def least_input_bytes():
    """The roofline's lower bound (kernelbench/work.py): a sequence may be one token long, so a kernel must read q,
    the tables and only one page of keys and values per sequence; the rest of the pool it may never touch."""
    one_page = page_size * heads * head_dim * 4
    return batch_size * heads * head_dim * 4 + batch_size * (pages_per_sequence + 1) * 4 + 2 * batch_size * one_page


def get_init_inputs():
    return []
