"""The roofline: what a problem must move and compute, the machine's peaks, a result as a fraction of the limit,
and a time faster than the machine allows failing instead of scoring."""

import json
import subprocess
import sys

import pytest

from evaluators.roofline import SUSPECT_MARGIN, MachinePeaks, RooflineCheck, cache_file, gpu_peaks, report
from kernelbench.problem import load_problem
from kernelbench.registry import resolve_problem
from kernelbench.work import Work, problem_work
from tests.conftest import REPO

PEAKS = MachinePeaks(100.0, ((64 << 10, 40.0), (1 << 20, 80.0), (32 << 20, 20.0)), "test machine")


def test_work_counts_inputs_weights_and_outputs_at_the_problems_sizes():
    problem = load_problem(resolve_problem("level2/gemm_bias_relu", None, "cpu"))
    work = problem_work(problem)
    batch, features_in = problem.get_inputs()[0].shape
    model = problem.Model(*problem.get_init_inputs())
    features_out = model(*problem.get_inputs()).shape[1]
    assert work.input_bytes == batch * features_in * 4 and work.output_bytes == batch * features_out * 4
    assert work.parameter_bytes == sum(p.numel() * 4 for p in model.parameters())
    assert work.flops == 2 * batch * features_in * features_out
    relu = problem_work(load_problem(resolve_problem("level1/relu", None, "cpu")))
    assert relu.flops == 0 and relu.bytes_moved == relu.input_bytes * 2


def test_bandwidth_is_the_best_rate_at_or_below_the_working_set():
    assert PEAKS.bandwidth_at(16 << 10) == 80.0, "below every calibrated size: the best of all"
    assert PEAKS.bandwidth_at(100 << 10) == 40.0
    assert PEAKS.bandwidth_at(2 << 20) == 80.0
    assert PEAKS.bandwidth_at(1 << 30) == 80.0, "a big working set never gets a lower peak than a smaller one had"


def test_fraction_of_the_limit_and_what_is_suspect():
    work = Work(1 << 20, 0, 1 << 20, flops=10**9)                   # 2 MiB at 80 GB/s: 26.2 µs; 1 GFLOP: 10 ms
    slow = report(work, 20_000.0, PEAKS)
    assert slow.memory_us == pytest.approx(2 * 2**20 / 80e3) and slow.compute_us == pytest.approx(10_000.0)
    assert slow.fraction == pytest.approx(0.5) and not slow.suspect and "compute-bound" in slow.describe()
    fewer_flops = report(work, 100.0, PEAKS)                       # 100x under the FLOP limit: a better algorithm
    assert fewer_flops.fraction > 1 and not fewer_flops.suspect, "FLOPs never make a result suspect"
    just_under = report(work, slow.memory_us / SUSPECT_MARGIN * 1.01, PEAKS)
    impossible = report(work, slow.memory_us / (SUSPECT_MARGIN * 2), PEAKS)
    assert not just_under.suspect and impossible.suspect
    assert impossible.to_dict()["suspect"] is True


def test_published_gpu_peaks_and_cache_resident_working_sets():
    h100 = gpu_peaks("NVIDIA H100 80GB HBM3")                     # the SXM part, as nvidia-smi names it
    assert gpu_peaks("NVIDIA H100 PCIe").bandwidth_at(1 << 30) == pytest.approx(2000.0)
    assert h100 is not None and h100.bandwidth_at(1 << 30) == pytest.approx(3350.0)
    assert gpu_peaks("NVIDIA H200").bandwidth_at(1 << 30) == pytest.approx(4800.0)
    assert gpu_peaks("Some Future GPU") is None
    small = report(Work(1 << 20, 0, 1 << 20, None), 0.001, h100)      # fits the L2: HBM does not bound it
    big = report(Work(1 << 30, 0, 1 << 30, None), 1.0, h100)
    assert not small.suspect and big.suspect


def test_work_is_worked_out_once_per_problem(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache_file(1).parent.mkdir(parents=True)
    cache_file(1).write_text(json.dumps({"gflops": 100.0, "bandwidth_gbps": [[0, 50.0]], "source": "cached"}))
    ref = resolve_problem("level1/relu", None, "cpu")
    check, problem = RooflineCheck(), load_problem(ref)
    first = check.read(problem, ref.path, "cpu", "cpu", 1, "", 100.0)
    calls = []
    monkeypatch.setattr("kernelbench.work.problem_work", lambda module: calls.append(module))
    second = check.read(problem, ref.path, "cpu", "cpu", 1, "", 200.0)
    assert calls == [] and first.source == "cached" and second.fraction == pytest.approx(first.fraction / 2)


def stark_eval(cache_home, *args):
    done = subprocess.run([sys.executable, "-m", "stark.cli", "eval", "level1/relu", str(REPO / "kernelbench" / "seeds"
                           / "level1" / "relu.py"), "--json", "--no-compile-baseline", "--repeats", "5", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "XDG_CACHE_HOME": str(cache_home)})
    return json.loads(done.stdout[done.stdout.index("{"):])


@pytest.mark.slow
def test_a_real_result_reads_against_the_roofline_and_a_time_the_machine_cannot_make_fails(tmp_path):
    honest = stark_eval(tmp_path / "calibrated")                  # calibrates this host, 1 thread, then judges
    roofline = honest["profile"]["roofline"]
    assert honest["passed"] and 0 < roofline["fraction"] < 1 and not roofline["suspect"]
    assert roofline["bytes_moved"] == 2 * 16 * 16384 * 4 and "calibrated on" in roofline["source"]
    slow_host = tmp_path / "slow"                                 # a machine claiming 1 MB/s: nothing can be real
    path = slow_host / "stark" / "roofline" / cache_file(1).name
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"gflops": 1.0, "bandwidth_gbps": [[0, 0.001]], "source": "a test's fake peaks"}))
    faked = stark_eval(slow_host)
    assert not faked["passed"] and faked["failure"]["stage"] == "profile"
    assert faked["failure"]["kind"] == "faster_than_possible" and "not done inside the timed call" in faked["failure"]["message"]
    assert faked["speedup_vs_eager"] is not None and faked["profile"]["roofline"]["suspect"], "the evidence is kept"
