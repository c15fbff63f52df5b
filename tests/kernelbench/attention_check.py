"""Runs the attention family's seeds against their problems' references in a fresh process (so Triton's interpreter
can be switched on before import) and prints one JSON line per problem: the largest error over several tunable
settings and shape sets.  Used by tests/kernelbench/test_attention_family.py; `python -m tests.kernelbench.
attention_check triton|cpu [variant ...]`."""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

SMALL = {"batch_size": 1, "heads": 2, "kv_heads": 1, "seq_len": 40, "head_dim": 16, "window": 12, "max_distance": 5,
         "cache_len": 70, "page_size": 4, "pages_per_sequence": 9}
"""Sizes small enough for Triton's interpreter, with a sequence that is not a multiple of any tile."""
SETTINGS = ({}, {"BLOCK_Q": 7, "BLOCK_KV": 33, "SIMD_DOT": True, "SKIP_MASKED": True, "SPLITS": 5,
                 "BLOCK_M": 32, "BLOCK_N": 16}, {"BLOCK_Q": 16, "BLOCK_KV": 64, "SKIP_MASKED": True, "SPLITS": 1,
                                                 "BLOCK_N": 32})


def check(name: str, kind: str) -> dict:
    import torch

    from kernelbench.problem import load_module, load_problem
    from kernelbench.registry import resolve_problem
    from kernelbench.seeds import seed_for

    problem = load_problem(resolve_problem(f"level3/attention_{name}", shape_set="cpu"))
    seed = seed_for(f"level3/attention_{name}", "cuda" if kind == "triton" else "cpu")
    candidate = load_module(seed, prefix="attention_seed")
    size_sets = [SMALL] if kind == "triton" else [problem.HELD_OUT_SHAPES, SMALL]
    worst = 0.0
    for sizes in size_sets:
        for key, value in sizes.items():
            for module in (problem, candidate):
                if hasattr(module, key):
                    setattr(module, key, value)
        torch.manual_seed(1)
        model = problem.Model()
        torch.manual_seed(1)
        model_new = candidate.ModelNew()
        torch.manual_seed(2)
        inputs = problem.get_inputs()
        expected = model(*inputs).detach()
        for setting in SETTINGS:
            for key, value in setting.items():
                if hasattr(candidate, key):
                    setattr(candidate, key, value)
            got = model_new(*inputs).detach()
            assert got.shape == expected.shape, (got.shape, expected.shape)
            worst = max(worst, float((got - expected).abs().max()))
    return {"problem": name, "max_abs_error": worst, "seed": str(seed)}


def main(kind: str, names: list[str]) -> None:
    if kind == "triton":
        os.environ["TRITON_INTERPRET"] = "1"
    import torch

    torch.set_num_threads(1)
    with ThreadPoolExecutor(max_workers=2 if kind == "cpu" else 1) as pool:   # C++ builds overlap (ninja)
        for line in pool.map(lambda n: check(n, kind), names):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
