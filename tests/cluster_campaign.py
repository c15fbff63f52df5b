"""Runs a campaign on a three-node Ray cluster on loopback and removes an evaluator node mid-run.

Started by tests/evolve/test_cluster.py as a subprocess (one Ray per process); prints one JSON line.
usage: python -m tests.cluster_campaign CONFIG RUNS_ROOT DATABASE_URL
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import time

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import ray  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.exc import ProgrammingError  # noqa: E402

from evolve.launch import start_campaign  # noqa: E402


def evaluated(engine) -> dict[int, tuple]:
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, score FROM programs WHERE status IN ('evaluated', 'failed')"))
            return {row[0]: (row[1], row[2]) for row in rows}
    except ProgrammingError:
        return {}


def main(config: str, runs_root: str, url: str) -> None:
    cluster = Cluster(initialize_head=True, connect=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    evaluator_nodes = [cluster.add_node(num_cpus=1, resources={"evaluator": 2}) for _ in range(2)]
    cluster.wait_for_nodes()
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["summary"] = dataclasses.asdict(start_campaign(config, runs_root=runs_root, show_progress=False))
        except Exception as exc:  # noqa: BLE001 - reported to the test as data
            outcome["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=run)
    thread.start()
    engine = create_engine(url)
    deadline = time.monotonic() + 240
    while len(evaluated(engine)) < 6 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.2)
    before = evaluated(engine)
    cluster.remove_node(evaluator_nodes[0])
    removed_at = len(before)
    thread.join(timeout=400)
    after = evaluated(engine)
    print(json.dumps({"outcome": outcome, "removed_after": removed_at,
                      "lost": sorted(pid for pid, row in before.items() if after.get(pid) != row),
                      "finished": not thread.is_alive()}))
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:4])
