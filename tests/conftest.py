"""Shared fixtures: one Ray session, one evaluator pool, one worker process, and request builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evaluators.config import EvalConfig, EvalRequest, StageTimeouts
from kernelbench.registry import resolve_problem

REPO = Path(__file__).resolve().parent.parent
CANDIDATES = Path(__file__).parent / "candidates"
BUNDLED = REPO / "kernelbench" / "candidates"

FAST = EvalConfig(trials=2, warmup=1, repeats=3, input_sets=2, compare_compile=False, memory_limit_gb=4,
                  timeouts=StageTimeouts(compile=240, verify=30, profile=60))


def candidate_source(name: str) -> str:
    """`x.py` from tests/candidates or the bundled ones; `redteam/x.py` from tests/redteam."""
    if name.startswith("redteam/"):
        return (Path(__file__).parent / name).read_text()
    path = CANDIDATES / name
    return (path if path.exists() else BUNDLED / name).read_text()


def make_request(problem: str, candidate: str, config: EvalConfig = FAST, build_cache: Path | None = None) -> EvalRequest:
    return EvalRequest(resolve_problem(problem), candidate_source(candidate), config, str(build_cache or ""))


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("build-cache")


@pytest.fixture(scope="session")
def ray_session():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def pool(ray_session, tmp_path_factory):
    from evaluators.pool import EvaluatorPool

    evaluator_pool = EvaluatorPool(size=2, scratch_root=str(tmp_path_factory.mktemp("pool-scratch")))
    yield evaluator_pool
    evaluator_pool.shutdown()


@pytest.fixture(scope="session")
def worker(tmp_path_factory):
    from evaluators.judge import Judge

    process = Judge(tmp_path_factory.mktemp("worker-scratch"))
    yield process
    process.close()


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def postgres_url():
    from tests import postgres_server

    if not postgres_server.available():
        pytest.skip("PostgreSQL server binaries are not installed (.ci/run installs them)")
    with postgres_server.PostgresServer() as server:
        yield server.url


@pytest.fixture(scope="session", autouse=True)
def shared_build_cache(tmp_path_factory):
    """One extension build cache for the whole session (subprocesses too), never the user's own."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
