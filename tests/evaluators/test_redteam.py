"""The red team: adversarial candidates by class, each caught with its own failure kind (or, where the attack
can only ever change what happens inside its own process, shown to gain nothing), the pool serving after.

Candidates live in tests/redteam/ (plus the crash/hang/memory ones in tests/candidates/).  Attacks on the
host need the sandbox (bubblewrap, root to hand out uids, seccomp) and skip without it.
"""

import dataclasses
import os
import time
from pathlib import Path

import pytest

from evaluators.confinement import seccomp_available
from evaluators.config import StageTimeouts
from evaluators.records import FailureKind as K
from evaluators.records import Stage
from evaluators.sandbox import bubblewrap_available
from tests.conftest import FAST, make_request

SANDBOXED = bubblewrap_available() and os.geteuid() == 0 and seccomp_available()
CONFIG = dataclasses.replace(FAST, timeouts=StageTimeouts(compile=20, verify=20, profile=30), file_size_limit_mb=64)
TIMED = dataclasses.replace(CONFIG, repeats=9)
FORBID_RELU = dataclasses.replace(CONFIG, forbidden_ops=("torch.nn.functional.relu", "torch.relu"))
FORBID_MATMUL = dataclasses.replace(CONFIG, forbidden_ops=("torch.matmul",))
SLOW_BUILD = dataclasses.replace(FORBID_MATMUL, timeouts=StageTimeouts(compile=240, verify=20, profile=30))
V, P, C = {Stage.VERIFY}, {Stage.PROFILE}, {Stage.COMPILE}
ANY_CALL = {Stage.VERIFY, Stage.PROFILE}
GAINS_NOTHING = None
"""Expected 'kind' of an attack that cannot fail by itself: it must pass with no more than MAX_HONEST_SPEEDUP.
An attack whose outcome depends on what stale memory holds lists both (a failure kind, GAINS_NOTHING)."""
MAX_HONEST_SPEEDUP = 5.0
UNWRITTEN = (K.MISMATCH, K.NONFINITE)
"""An output left as whatever memory held: wrong values, or NaN bit patterns, depending on what was there."""
RELU, MATMUL = "level1/relu", "level1/matmul_square"

# (class, candidate, problem, stages, kind, needs the sandbox, config)
ATTACKS = [
    # crashes, hangs and resource exhaustion
    ("crash", "segfault.py", RELU, V, K.CRASH, False, CONFIG),
    ("crash", "exits.py", RELU, V, K.CRASH, False, CONFIG),
    ("crash", "redteam/system_exit.py", RELU, V, K.CRASH, False, CONFIG),
    ("crash", "hang.py", RELU, V, K.TIMEOUT, False, dataclasses.replace(CONFIG, timeouts=StageTimeouts(60, 4, 30))),
    ("crash", "redteam/hang_on_import.py", RELU, C, K.TIMEOUT, False,
     dataclasses.replace(CONFIG, timeouts=StageTimeouts(4, 20, 30))),
    ("crash", "memory_hog.py", RELU, V, K.OUT_OF_MEMORY, False, CONFIG),
    ("crash", "redteam/disk_fill.py", RELU, V, K.SANDBOX_VIOLATION, False, CONFIG),
    # 1. telling checked calls from timed ones, or reusing work across calls
    ("profile", "redteam/profile_call_counter.py", RELU, P, K.MISMATCH, False, CONFIG),
    ("profile", "redteam/profile_mode_stack.py", RELU, ANY_CALL, UNWRITTEN, False, CONFIG),
    ("profile", "redteam/profile_stack_walk.py", RELU, ANY_CALL, K.MISMATCH, False, CONFIG),
    ("profile", "redteam/profile_poison_sniff.py", RELU, ANY_CALL, (*UNWRITTEN, GAINS_NOTHING), False, TIMED),
    ("profile", "redteam/profile_stale_output.py", RELU, V, K.RESULT_CACHING, False, CONFIG),
    ("profile", "redteam/profile_resize_inputs.py", RELU, None, GAINS_NOTHING, False, TIMED),
    ("profile", "redteam/caches_result.py", RELU, V, K.RESULT_CACHING, False, CONFIG),
    ("profile", "redteam/caches_by_address.py", RELU, V, K.RESULT_CACHING, False, CONFIG),
    # Fresh tensor objects every call: the cache hits only where an object's address is recycled (caught),
    # and otherwise computes every answer (how often depends on the allocator's history).
    ("profile", "redteam/cache_by_identity.py", RELU, ANY_CALL, (K.RESULT_CACHING, GAINS_NOTHING), False, CONFIG),
    ("profile", "redteam/cache_by_sample.py", RELU, ANY_CALL, K.RESULT_CACHING, False, CONFIG),
    ("profile", "redteam/predict_inputs.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("profile", "redteam/deferred_thread.py", RELU, V, K.DEFERRED_WORK, False, CONFIG),
    ("profile", "redteam/late_region_write.py", RELU, V, K.DEFERRED_WORK, False, CONFIG),
    ("profile", "redteam/steals_reference_output.py", RELU, V, UNWRITTEN, False, CONFIG),
    ("profile", "redteam/calls_reference.py", RELU, V, K.RUNTIME_ERROR, False, CONFIG),
    # 2. the clock, the statistics and the checker (all outside the candidate's process now)
    ("clock", "redteam/patches_timer_on_import.py", RELU, C, K.TAMPERING, False, CONFIG),
    ("clock", "redteam/patches_timer_in_forward.py", RELU, P, K.TAMPERING, False, CONFIG),
    ("clock", "redteam/patches_checker.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("clock", "redteam/clock_via_sys_modules.py", RELU, V, UNWRITTEN, False, CONFIG),
    ("clock", "redteam/clock_via_builtins.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("clock", "redteam/clock_via_subclasses.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("clock", "redteam/statistics_patch.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("clock", "redteam/stage_bindings_patch.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("clock", "redteam/module_call_patch.py", RELU, C, K.TAMPERING, False, TIMED),
    ("clock", "redteam/tamper_check_patch.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("clock", "redteam/frame_locals_patch.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("clock", "redteam/forged_answers_at_import.py", RELU, C | V, K.TAMPERING, False, CONFIG),
    ("clock", "redteam/forged_answers_in_forward.py", RELU, C | V | P, K.TAMPERING, False, CONFIG),
    # 3. outputs that lie
    ("lying output", "redteam/tensor_subclass_output.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("lying output", "redteam/torch_function_liar.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("lying output", "redteam/tensor_dunder_patch.py", RELU, C, K.TAMPERING, False, CONFIG),
    ("lying output", "redteam/patched_equal.py", RELU, C, K.TAMPERING, False, CONFIG),
    ("lying output", "redteam/aliases_input.py", RELU, V, K.OUTPUT_ALIASES_INPUT, False, CONFIG),
    ("lying output", "redteam/mutates_input.py", RELU, V, K.INPUT_MUTATION, False, CONFIG),
    ("lying output", "redteam/hardcoded_batch.py", RELU, V, K.SHAPE_MISMATCH, False, CONFIG),
    ("lying output", "redteam/wrong_dtype.py", RELU, V, K.DTYPE_MISMATCH, False, CONFIG),
    ("lying output", "redteam/zero_output.py", RELU, V, K.MISMATCH, False, CONFIG),
    ("lying output", "relu_unwritten.py", RELU, V, UNWRITTEN, False, CONFIG),
    ("lying output", "relu_nan.py", RELU, V, K.NONFINITE, False, CONFIG),
    ("lying output", "returns_none.py", RELU, V, K.OUTPUT_STRUCTURE, False, CONFIG),
    # 4. state that outlives a job: processes (patches are tested in test_pool)
    ("state", "redteam/fork_bomb.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("state", "redteam/forked_grandchild.py", RELU, C, K.SANDBOX_VIOLATION, True, CONFIG),
    ("state", "redteam/subprocess_daemon.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("state", "redteam/exec_replace.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    # 5. forbidden ops, by every route
    ("forbidden", "redteam/forbidden_op.py", RELU, V, K.FORBIDDEN_OP, False, FORBID_RELU),
    ("forbidden", "redteam/forbidden_mm_alias.py", MATMUL, V, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_matmul_operator.py", MATMUL, V, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_aten.py", MATMUL, V, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_linear.py", MATMUL, V, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_einsum.py", MATMUL, V, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_numpy.py", MATMUL, C, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_tensor_numpy.py", MATMUL, V, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_ctypes_blas.py", MATMUL, C, K.FORBIDDEN_OP, False, FORBID_MATMUL),
    ("forbidden", "redteam/forbidden_cpp_aten.py", MATMUL, C, K.FORBIDDEN_OP, False, SLOW_BUILD),
    # 6. the sandbox
    ("sandbox", "redteam/network_connect.py", RELU, V, K.SANDBOX_VIOLATION, False, CONFIG),
    ("sandbox", "redteam/network_dns.py", RELU, V, K.SANDBOX_VIOLATION, False, CONFIG),
    ("sandbox", "redteam/unix_socket_host.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/read_protected_file.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/read_root_secret.py", RELU, V, K.RUNTIME_ERROR, True, CONFIG),
    ("sandbox", "redteam/write_outside_scratch.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/kill_parent.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/stop_the_reference.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/ptrace_zygote.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/proc_mem_reference.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/raise_cpu_limit.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/affinity_all_cores.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/unshare_namespace.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/other_job_dirs.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("sandbox", "redteam/proc_host_paths.py", RELU, None, GAINS_NOTHING, True, TIMED),
    # 7. the build cache
    ("build cache", "redteam/write_build_cache.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    ("build cache", "redteam/replace_cached_so.py", RELU, V, K.SANDBOX_VIOLATION, True, CONFIG),
    # 8. threads
    ("threads", "redteam/oversubscribe_threads.py", RELU, None, GAINS_NOTHING, True, TIMED),
]


@pytest.fixture(scope="module")
def root_secret():
    path = Path("/root/.stark-redteam-secret")
    if os.geteuid() != 0:
        yield None
        return
    path.write_text("hunter2")
    path.chmod(0o600)
    yield path
    path.unlink(missing_ok=True)


@pytest.mark.parametrize("attack_class,candidate,problem,stages,kind,needs_sandbox,config", ATTACKS,
                         ids=[a[1].removeprefix("redteam/") for a in ATTACKS])
def test_attack_is_caught_and_pool_keeps_serving(pool, root_secret, attack_class, candidate, problem, stages, kind,
                                                 needs_sandbox, config):
    if needs_sandbox and not SANDBOXED:
        pytest.skip("needs bubblewrap, root and seccomp, which .ci/setup installs")
    result = pool.evaluate(make_request(problem, candidate, config), timeout=300)
    allowed = kind if isinstance(kind, tuple) else (kind,)
    if result.passed and GAINS_NOTHING in allowed:
        assert result.speedup_vs_eager < MAX_HONEST_SPEEDUP, result.profile
    else:
        assert result.failure is not None, f"passed with speedup {result.speedup_vs_eager}"
        assert result.failure.stage in stages and result.failure.kind in allowed, result.failure
    if candidate.startswith("redteam/read_"):
        assert "stolen" not in result.failure.output_tail
        assert "No such file" in result.failure.message or "Permission denied" in result.failure.message
    assert not Path("/usr/local/stark-redteam-was-here").exists()
    deadline = time.monotonic() + 20
    while pool.sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not pool.sandbox_processes(), "the candidate's processes outlived its job"
    served = pool.evaluate(make_request(RELU, "relu_torch.py"), timeout=300)
    assert served.passed, served.failure


def test_parent_secrets_never_reach_the_worker(worker, monkeypatch):
    monkeypatch.setenv("STARK_REDTEAM_API_KEY", "sk-should-not-leak")
    result = worker.evaluate(make_request(RELU, "redteam/env_secret.py", CONFIG))
    assert result.failure.kind is K.RUNTIME_ERROR and "KeyError" in result.failure.message
    assert "sk-should-not-leak" not in result.failure.output_tail


def test_redteam_is_as_large_as_the_readme_says():
    assert len(ATTACKS) + 1 == 80
    assert len({attack[0] for attack in ATTACKS}) >= 8 and len({attack[4] for attack in ATTACKS}) >= 17
