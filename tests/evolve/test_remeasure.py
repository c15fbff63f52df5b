"""A kernel is crowned only at its re-measured value: noise in one measurement cannot make a best."""

import json
import sqlite3

import pytest

from evolve.launch import campaign_status, resume_campaign, start_campaign

pytestmark = pytest.mark.slow

SEED = '''import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
PASSES = 2  # range: 1..6


def relu_kernel(x):
    out = x
    for _ in range(PASSES):
        out = torch.clamp_min(out, 0.0)
    return out
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x):
        return relu_kernel(x)
'''

CONFIG = '''
[campaign]
name = "remeasure"
problem = "level1/relu"
seed_program = "{seed}"

[budget]
iterations = 6

[pipeline]
proposals_in_flight = 2
evaluators = 2
repair_attempts = 0

[evaluator]
trials = 1
warmup = 1
repeats = 5
threads = 1
compare_compile = false

[remeasure]
above_speedup = 0.01
repeats_factor = 2

[agents.planner]
kind = "offline"
[agents.coder]
kind = "offline"
[agents.reviewer]
kind = "offline"
'''


def test_every_crowned_program_was_measured_twice_and_scores_its_second_measurement(ray_session, tmp_path):
    (tmp_path / "seed.py").write_text(SEED)
    (tmp_path / "campaign.toml").write_text(CONFIG.format(seed=tmp_path / "seed.py"))
    start_campaign(tmp_path / "campaign.toml", runs_root=tmp_path / "runs", show_progress=False)
    with sqlite3.connect(tmp_path / "runs" / "remeasure" / "campaign.db") as conn:
        programs = conn.execute("SELECT id, score FROM programs WHERE status = 'evaluated' AND origin != 'seed' "
                                "AND origin != 'migration'").fetchall()
        assert programs, "the offline mutator produced no correct program"
        for program_id, score in programs:
            rows = [json.loads(r[0]) for r in conn.execute(
                "SELECT result FROM evaluations WHERE program_id = ? ORDER BY id", (program_id,))]
            assert len(rows) == 2, f"program {program_id} was not re-measured"
            first, second = rows
            assert not first["remeasured"] and second["remeasured"]
            assert second["profile"]["candidate"]["runs"] == 2 * first["profile"]["candidate"]["runs"]
            assert score == pytest.approx(second["speedup_vs_eager"])
            low, high = second["profile"]["speedup_ci"]
            assert low <= second["speedup_vs_eager"] <= high
    summary = campaign_status(tmp_path / "runs" / "remeasure")
    assert summary.best_interval is not None and "95% CI" in summary.best_text()


def test_a_kill_between_the_two_measurements_resumes_with_the_second(ray_session, tmp_path):
    """What a kill after the first (provisional) measurement leaves: the program unscored, its attempt open.
    The resume re-measures it once; it does not start over with a first measurement."""
    (tmp_path / "seed.py").write_text(SEED)
    (tmp_path / "campaign.toml").write_text(CONFIG.format(seed=tmp_path / "seed.py").replace(
        "iterations = 6", "iterations = 3"))
    start_campaign(tmp_path / "campaign.toml", runs_root=tmp_path / "runs", show_progress=False)
    db = tmp_path / "runs" / "remeasure" / "campaign.db"
    with sqlite3.connect(db) as conn:
        program, attempt = conn.execute("SELECT id, attempt FROM programs WHERE status = 'evaluated' AND origin = "
                                        "'mutation' ORDER BY id LIMIT 1").fetchone()
        last = conn.execute("SELECT MAX(id) FROM evaluations WHERE program_id = ?", (program,)).fetchone()[0]
        conn.execute("DELETE FROM evaluations WHERE id = ?", (last,))
        conn.execute("UPDATE programs SET status = 'proposed', score = NULL, correct = 0, in_population = 0 "
                     "WHERE id = ?", (program,))
        conn.execute("UPDATE attempts SET status = 'running' WHERE number = ?", (attempt,))
    resume_campaign(tmp_path / "runs" / "remeasure", show_progress=False)
    with sqlite3.connect(db) as conn:
        rows = [json.loads(r[0]) for r in conn.execute(
            "SELECT result FROM evaluations WHERE program_id = ? ORDER BY id", (program,))]
        status, in_population, evicted = conn.execute(
            "SELECT status, in_population, evicted_at FROM programs WHERE id = ?", (program,)).fetchone()
        open_attempts = conn.execute("SELECT COUNT(*) FROM attempts WHERE status <> 'done'").fetchone()[0]
    assert [r.get("provisional", False) for r in rows] == [True, False] and rows[1]["remeasured"]
    assert status == "evaluated" and (in_population or evicted) and open_attempts == 0
