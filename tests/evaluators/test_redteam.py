"""The red team: adversarial candidates, each caught with the right failure kind, the pool serving after.

Candidates live in tests/redteam/ (plus the crash/hang/memory ones in tests/candidates/).  Those that
attack the host (fork bomb, reading root's files, writing outside scratch, killing the parent) need the
sandbox's unprivileged uid and run only where bubblewrap and setpriv work (`.ci/setup` installs them).
"""

import dataclasses
import os
import time
from pathlib import Path

import pytest

from evaluators.config import StageTimeouts
from evaluators.records import FailureKind as K
from evaluators.records import Stage
from evaluators.sandbox import bubblewrap_available, setpriv_available
from tests.conftest import FAST, make_request

REDTEAM = Path(__file__).resolve().parent.parent / "redteam"
SANDBOXED = bubblewrap_available() and (os.geteuid() != 0 or setpriv_available())
CONFIG = dataclasses.replace(FAST, timeouts=StageTimeouts(compile=20, verify=20, profile=30), file_size_limit_mb=64)
FORBID = dataclasses.replace(CONFIG, forbidden_ops=("torch.nn.functional.relu", "torch.relu"))

# (candidate, stage, kind, needs the sandbox, config)
ATTACKS = [
    ("segfault.py", Stage.VERIFY, K.CRASH, False, CONFIG),
    ("exits.py", Stage.VERIFY, K.CRASH, False, CONFIG),
    ("redteam/system_exit.py", Stage.VERIFY, K.CRASH, False, CONFIG),
    ("hang.py", Stage.VERIFY, K.TIMEOUT, False, dataclasses.replace(CONFIG, timeouts=StageTimeouts(60, 4, 30))),
    ("redteam/hang_on_import.py", Stage.COMPILE, K.TIMEOUT, False,
     dataclasses.replace(CONFIG, timeouts=StageTimeouts(4, 20, 30))),
    ("memory_hog.py", Stage.VERIFY, K.OUT_OF_MEMORY, False, CONFIG),
    ("redteam/fork_bomb.py", Stage.VERIFY, K.TIMEOUT, True, dataclasses.replace(CONFIG, timeouts=StageTimeouts(60, 8, 30))),
    ("redteam/disk_fill.py", Stage.VERIFY, K.SANDBOX_VIOLATION, False, CONFIG),
    ("redteam/network_connect.py", Stage.VERIFY, K.SANDBOX_VIOLATION, False, CONFIG),
    ("redteam/network_dns.py", Stage.VERIFY, K.SANDBOX_VIOLATION, False, CONFIG),
    ("redteam/read_protected_file.py", Stage.VERIFY, K.SANDBOX_VIOLATION, True, CONFIG),
    ("redteam/read_root_secret.py", Stage.VERIFY, K.RUNTIME_ERROR, True, CONFIG),
    ("redteam/write_outside_scratch.py", Stage.VERIFY, K.SANDBOX_VIOLATION, True, CONFIG),
    ("redteam/kill_parent.py", Stage.VERIFY, K.SANDBOX_VIOLATION, True, CONFIG),
    ("redteam/aliases_input.py", Stage.VERIFY, K.OUTPUT_ALIASES_INPUT, False, CONFIG),
    ("redteam/mutates_input.py", Stage.VERIFY, K.INPUT_MUTATION, False, CONFIG),
    ("redteam/steals_reference_output.py", Stage.VERIFY, K.MISMATCH, False, CONFIG),
    ("redteam/caches_result.py", Stage.VERIFY, K.RESULT_CACHING, False, CONFIG),
    ("redteam/caches_by_address.py", Stage.VERIFY, K.RESULT_CACHING, False, CONFIG),
    ("redteam/deferred_thread.py", Stage.VERIFY, K.DEFERRED_WORK, False, CONFIG),
    ("redteam/calls_reference.py", Stage.VERIFY, K.CALLS_REFERENCE, False, CONFIG),
    ("redteam/forbidden_op.py", Stage.VERIFY, K.FORBIDDEN_OP, False, FORBID),
    ("redteam/patches_timer_on_import.py", Stage.COMPILE, K.TAMPERING, False, CONFIG),
    ("redteam/patches_timer_in_forward.py", Stage.VERIFY, K.TAMPERING, False, CONFIG),
    ("redteam/patches_checker.py", Stage.COMPILE, K.TAMPERING, False, CONFIG),
    ("redteam/hardcoded_batch.py", Stage.VERIFY, K.SHAPE_MISMATCH, False, CONFIG),
    ("redteam/wrong_dtype.py", Stage.VERIFY, K.DTYPE_MISMATCH, False, CONFIG),
    ("redteam/zero_output.py", Stage.VERIFY, K.MISMATCH, False, CONFIG),
    ("relu_unwritten.py", Stage.VERIFY, K.MISMATCH, False, CONFIG),
    ("relu_nan.py", Stage.VERIFY, K.NONFINITE, False, CONFIG),
    ("returns_none.py", Stage.VERIFY, K.OUTPUT_STRUCTURE, False, CONFIG),
]


def sandbox_processes() -> int:
    """Processes running as the sandbox uid (the pool's idle workers at most, once a bomb is cleaned up)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        count += uid_line.split()[1] == "65534"
    return count


def source_of(name: str) -> str:
    return (REDTEAM / name.removeprefix("redteam/")).read_text() if name.startswith("redteam/") else None


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


@pytest.mark.parametrize("candidate,stage,kind,needs_sandbox,config", ATTACKS, ids=[a[0] for a in ATTACKS])
def test_attack_is_caught_and_pool_keeps_serving(pool, root_secret, candidate, stage, kind, needs_sandbox, config):
    if needs_sandbox and not SANDBOXED:
        pytest.skip("needs bubblewrap and an unprivileged uid (setpriv), which .ci/setup installs")
    request = make_request("level1/relu", "relu_torch.py", config)
    request = dataclasses.replace(request, candidate_source=source_of(candidate) or make_request(
        "level1/relu", candidate, config).candidate_source)
    result = pool.evaluate(request, timeout=300)
    assert (result.failure.stage, result.failure.kind) == (stage, kind), result.failure
    if candidate.startswith("redteam/read_"):
        assert "stolen" not in result.failure.output_tail
        assert "No such file" in result.failure.message or "Permission denied" in result.failure.message
    assert not Path("/usr/local/stark-redteam-was-here").exists()
    if needs_sandbox:
        deadline = time.monotonic() + 20
        while sandbox_processes() > len(pool.actors) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sandbox_processes() <= len(pool.actors), "the candidate's processes outlived its worker"
    served = pool.evaluate(make_request("level1/relu", "relu_torch.py"), timeout=300)
    assert served.passed, served.failure


def test_parent_secrets_never_reach_the_worker(worker, monkeypatch):
    monkeypatch.setenv("STARK_REDTEAM_API_KEY", "sk-should-not-leak")
    request = dataclasses.replace(make_request("level1/relu", "relu_torch.py", CONFIG),
                                  candidate_source=source_of("redteam/env_secret.py"))
    result = worker.evaluate(request)
    assert result.failure.kind is K.RUNTIME_ERROR and "KeyError" in result.failure.message
    assert "sk-should-not-leak" not in result.failure.output_tail


def test_redteam_is_as_large_as_the_readme_says():
    assert len(ATTACKS) + 1 == 32 and len({attack[2] for attack in ATTACKS}) >= 15
