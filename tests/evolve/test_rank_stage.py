"""The cost model as the campaign's rank stage: once trained, a candidate it predicts cannot reach the best is
verified but not timed (`untimed`, kept out of the population, its prediction recorded), and the rest are timed."""

import json
import sqlite3

import pytest

from evolve.db.store import ProgramStore
from evolve.launch import start_campaign
from evolve.viewer.queries import cost_model_calls, program_detail

pytestmark = pytest.mark.slow

SEED = '''import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
PASSES = 8  # range: 1..64
CHUNKS = 2  # range: 1..64
LABEL = 3  # range: 1..40
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x):
        parts = []
        for part in x.chunk(CHUNKS):
            out = torch.relu(part)
            for _ in range(PASSES - 1):      # each pass is real work: the time follows PASSES (LABEL does nothing)
                out = torch.relu(out.clone())
            parts.append(out)
        return torch.cat(parts)
'''

CONFIG = '''
[campaign]
name = "ranked"
problem = "level1/relu"
seed_program = "{seed}"

[budget]
iterations = 18

[pipeline]
proposals_in_flight = 1
evaluators = 1
repair_attempts = 0

[evolve]
islands = 1
island_capacity = 8

[evaluator]
trials = 1
warmup = 1
repeats = 5
threads = 1
compare_compile = false

[remeasure]
enabled = false

[cost_model]
enabled = true
explore = 0.0
within = 0.0
min_samples = 3

[agents.planner]
kind = "offline"
[agents.coder]
kind = "offline"
[agents.reviewer]
kind = "offline"
'''


def test_untimed_candidates_are_verified_predicted_losers_outside_the_population(ray_session, tmp_path):
    (tmp_path / "seed.py").write_text(SEED)
    (tmp_path / "campaign.toml").write_text(CONFIG.format(seed=tmp_path / "seed.py"))
    run = tmp_path / "runs" / "ranked"
    start_campaign(tmp_path / "campaign.toml", runs_root=tmp_path / "runs", show_progress=False)
    with sqlite3.connect(run / "campaign.db") as conn:
        rows = conn.execute("SELECT p.id, p.status, p.correct, p.score, p.in_population, e.result FROM programs p "
                            "JOIN evaluations e ON e.program_id = p.id WHERE p.origin != 'seed' ORDER BY p.id").fetchall()
        best_score, best_source = conn.execute("SELECT score, source FROM programs WHERE status = 'evaluated' "
                                               "ORDER BY score DESC LIMIT 1").fetchone()
        ledger = conn.execute("SELECT status, count(*) FROM attempts GROUP BY status").fetchall()
    assert ledger == [("done", 18)]
    untimed = [(pid, json.loads(result)) for pid, status, _, _, _, result in rows if status == "untimed"]
    timed = [(pid, json.loads(result)) for pid, status, _, _, _, result in rows if status == "evaluated"]
    assert untimed, "the rank stage skipped nothing"
    assert timed, "the rank stage timed nothing"
    for pid, status, correct, score, in_population, result in rows:
        if status == "untimed":
            assert correct and score is None and not in_population, pid
    for pid, result in untimed:
        ranked = result["cost_model"]
        assert result["failure"] is None and result["profile"] is None, "an untimed candidate is still verified"
        assert not ranked["timed"] and ranked["trained_on"] >= 3
        # the best only grows, so a bound below the best at the time is below the final best
        assert ranked["upper"] < best_score, (pid, ranked, best_score)
    for pid, result in timed:
        assert result["cost_model"]["timed"] and result["cost_model"]["reason"], pid
        assert result["profile"] is not None
    assert (run / "best.py").read_text() == best_source

    store = ProgramStore(run / "campaign.db", create=False)
    try:
        shown = cost_model_calls(store, 1)
        detail = program_detail(store, untimed[0][0], 1)
    finally:
        store.close()
    summary = shown["summary"]
    assert summary["ranked"] == len(untimed) + len(timed) and summary["untimed"] == len(untimed)
    assert {c["id"] for c in shown["calls"] if c["measured"] is not None} == {pid for pid, _ in timed}
    assert summary["skipped_seconds_estimate"] > 0
    assert detail["status"] == "untimed" and detail["evaluations"][0]["cost_model"]["timed"] is False
