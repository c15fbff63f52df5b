#!/usr/bin/env bash
# The GPU checks a lent CUDA machine runs (the `device` tool; CI has no GPU): the GPU-marked tests (CUDA timing,
# NaN-poisoned allocations, KernelBench's verdicts on CUDA, the L2 flush), the attention family's Triton seeds
# (benchmarks/attention_gpu.py), the judge's idle probe (benchmarks/gpu_idle_probe.py), `stark eval` of Triton seeds on the problems' own GPU shapes, and a short offline campaign on the Triton GEMM seed.
# Usage: benchmarks/gpu_check.sh OUTDIR   (python3 must import torch with CUDA and stark's dependencies)
set -u
out=${1:?usage: benchmarks/gpu_check.sh OUTDIR}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 RAY_AUTH_MODE=disabled
stark() { timeout "$1" python3 -m stark.cli "${@:2}"; }
step() { echo; echo "=== $* ($(date +%T))"; }

step machine
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch, triton; print("torch", torch.__version__, "cuda", torch.version.cuda, "triton", triton.__version__)'
command -v bwrap >/dev/null && echo "bubblewrap: yes" || echo "bubblewrap: no"

if [ "${GPU_CHECK_ATTENTION:-1}" = 1 ]; then
    step "attention family: Triton seeds, own and held-out sizes, a small tunable grid"
    timeout 170 python3 benchmarks/attention_gpu.py --out "$out/attention_gpu.json" 2>&1 | grep -v Warning
fi

step "the judge's device idle probe: idle, behind another process's kernels, after killing it"
timeout 60 python3 benchmarks/gpu_idle_probe.py 2>&1 | tail -8

step "a round's inputs: drawn on the GPU, to the host and back"
timeout 60 python3 benchmarks/gpu_input_draw.py 2>&1 | tail -8

step GPU tests
STARK_RUNNER_TRACEBACKS=1 timeout 300 python3 -m pytest -q -p no:cacheprovider -m gpu --tb=short --durations=0 \
    tests/evaluators/test_gpu.py tests/evaluators/test_kernelbench_harness.py > "$out/pytest.log" 2>&1
grep -E "^E |passed|failed|Error|s call" "$out/pytest.log" | cut -c1-400 | head -60

step "stark eval: the reference GEMM against itself (the judge's clock on a GPU), under cProfile"
python3 -c "from pathlib import Path; from kernelbench.problem import reference_as_candidate as c
from kernelbench.registry import resolve_problem as r
Path('/tmp/identity.py').write_text(c(Path(r('level1/matmul_square', shape_set='gpu').path).read_text()))"
timeout 120 python3 -m cProfile -o "$out/eval_identity.prof" -m stark.cli eval level1/matmul_square \
    /tmp/identity.py --backend cuda --shapes gpu 2>&1 | tail -22
python3 -c "import pstats,sys; pstats.Stats(sys.argv[1]).sort_stats('cumulative').print_stats(30)" \
    "$out/eval_identity.prof" 2>&1 | grep -E "cumtime|kernel_judge|device_outputs|judge.py|compare|runner_handle" | head -30

step "stark eval: Triton attention seed (causal sliding window), stark harness"
stark 90 eval level3/attention_causal_window kernelbench/seeds/gpu/level3/attention_causal_window.py --backend cuda \
    --shapes gpu | tail -22

step "stark eval: Triton GEMM seed"
stark 90 eval level1/matmul_square kernelbench/candidates/matmul_square_triton.py --backend cuda --shapes gpu | tail -25

step "offline campaign on the Triton GEMM seed"
rm -rf runs/matmul-triton-gpu
stark 150 run runs/matmul_triton_gpu.toml 2>&1 | tail -30
stark 60 report runs/matmul-triton-gpu --out "$out/report" 2>&1 | tail -40
stark 30 status runs/matmul-triton-gpu 2>&1 | tail -30
tar -czf "$out/campaign.tgz" runs/matmul-triton-gpu 2>/dev/null
echo "=== done ($(date +%T))"
