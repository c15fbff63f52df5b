"""The README's local-model recipe, end to end, with a real model: llama-cpp-python's server on the SmolLM2-135M
GGUF shipped in a PyPI package, and a short campaign against it.  Opt-in: `.ci/setup --real-llm` builds the
server (a few minutes); without it these tests are skipped.  A 135M model rarely improves a kernel, so what is
checked is the path: the campaign finishes, every call is recorded with what it asked and got, and every reply
is either turned into a program or rejected with a reason."""

import json
import socket
import sqlite3
import subprocess
import time
import urllib.request
import zlib

import pytest

from tests.conftest import REPO
from tests.faults.harness import RunDatabase, assert_exactly_once, run_cli

LLM_VENV = REPO / ".venv-llm"
pytestmark = [pytest.mark.real_llm, pytest.mark.slow,
              pytest.mark.skipif(not (LLM_VENV / ".stark-installed").exists(),
                                 reason="opt-in: `.ci/setup --real-llm` builds the local model server")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"     # a file, not a pipe: the server logs a lot
    with open(log, "wb") as sink:
        server = subprocess.Popen([str(LLM_VENV / "bin" / "python"), "-m", "stark.llm.local_server",
                                   "--port", str(port)], cwd=REPO, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(timeout=30)


def test_a_short_campaign_runs_against_a_real_local_model(local_server, tmp_path):
    budget = 3
    overrides = [f"agents.{role}.llm.base_url={local_server}" for role in ("planner", "coder", "reviewer")]
    args = [arg for o in overrides for arg in ("--set", o)]
    code, _, err = run_cli("run", str(REPO / "runs" / "matmul_local_llm.toml"), "--runs-root", str(tmp_path),
                           "--no-progress", "--set", f"budget.iterations={budget}", *args, timeout=1500)
    assert code == 0, err
    run_dir = tmp_path / "matmul-local-llm"
    assert_exactly_once(RunDatabase(run_dir / "campaign.db"), budget, 8)
    with sqlite3.connect(run_dir / "campaign.db") as conn:
        calls = conn.execute("SELECT role, status, prompt_z, response_z FROM llm_calls").fetchall()
        notes = conn.execute("SELECT status, note FROM programs WHERE origin <> 'seed'").fetchall()
    assert calls and all(prompt for _, _, prompt, _ in calls)
    replied = [zlib.decompress(r).decode() for _, status, _, r in calls if status in ("ok", "truncated") and r]
    assert replied, calls
    for status, note in notes:                     # every dead end says what was wrong with the reply
        assert status in ("evaluated", "failed") or note, (status, note)
    code, out, _ = run_cli("status", str(run_dir), "--json", timeout=60)
    assert code == 0 and json.loads(out)["llm_outcomes"]
