"""Cluster mode: a campaign on a multi-node Ray cluster (loopback) with its database on PostgreSQL; an
evaluator node is removed mid-campaign, its in-flight candidates are retried elsewhere, nothing is lost."""

import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BUNDLED, REPO

pytestmark = pytest.mark.slow


def test_campaign_survives_losing_an_evaluator_node(postgres_url, tmp_path):
    with create_engine(postgres_url, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS cluster"))
        conn.execute(text("CREATE DATABASE cluster"))
    postgres_url = postgres_url.rsplit("/", 1)[0] + "/cluster"
    config = tmp_path / "cluster.toml"
    config.write_text(f"""
[campaign]
name = "cluster"
problem = "level1/matmul_square"
seed_program = "{BUNDLED / 'matmul_square_tiled.py'}"
database = "{postgres_url}"
[budget]
iterations = 30
[pipeline]
proposals_in_flight = 3
evaluators = 2
repair_attempts = 0
evaluator_resource = "evaluator"
[evaluator]
trials = 1
repeats = 5
threads = 1
""")
    done = subprocess.run([sys.executable, "-m", "tests.cluster_campaign", str(config), str(tmp_path / "runs"),
                           postgres_url], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"outcome"')]
    assert lines, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(lines[-1])
    assert report["finished"] and "error" not in report["outcome"], report
    assert report["removed_after"] >= 6 and report["lost"] == []
    summary = report["outcome"]["summary"]
    assert summary["status"] == "finished" and summary["attempts"] == 30
    assert summary["counts"].get("proposed", 0) == 0
    with create_engine(postgres_url).connect() as conn:
        attempts = {row[0] for row in conn.execute(text("SELECT attempt FROM programs"))}
    assert attempts == set(range(31))
