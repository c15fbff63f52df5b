"""A campaign whose problem's own code fails: nothing is charged to a candidate, a one-off failure is evaluated
again, a lasting one stops the run with the attempt left open, and a resume finishes it exactly once."""

import json
from pathlib import Path

import pytest

from evolve.campaign_error import CampaignError
from evolve.db.store import ProgramStore
from evolve.launch import resume_campaign, start_campaign
from evolve.records import Status
from tests.faults.harness import RunDatabase, assert_exactly_once, log_events

PROBLEM = '''import torch
import torch.nn as nn
from pathlib import Path


class Model(nn.Module):
    def forward(self, x):
        return x * 2.0


batch_size = 16
CPU_SHAPES = {{"batch_size": 16}}   # its own sizes: the CPU sizing policy would call get_inputs() (and count it)
FAIL_FROM, FAIL_UNTIL = {fail_from}, {fail_until}
"""get_inputs() raises on these calls (counted in a file beside this one): a reference that breaks mid-run."""


def get_inputs():
    counter = Path(__file__).with_suffix(".calls")
    calls = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(calls))
    if FAIL_FROM <= calls < FAIL_UNTIL:
        raise RuntimeError(f"the problem broke on call {{calls}}")
    return [torch.rand(batch_size, 64)]


def get_init_inputs():
    return []
'''

SEED = '''import torch
import torch.nn as nn

# EVOLVE-BLOCK-START
UNROLL = 4  # range 1..64


def scale(x):
    return x * 2.0 + 0 * UNROLL
# EVOLVE-BLOCK-END


class ModelNew(nn.Module):
    def forward(self, x):
        return scale(x)
'''


def campaign(tmp_path: Path, fail_from: int, fail_until: int) -> Path:
    (tmp_path / "scale.py").write_text(PROBLEM.format(fail_from=fail_from, fail_until=fail_until))
    (tmp_path / "seed.py").write_text(SEED)
    config = tmp_path / "c.toml"
    config.write_text('[campaign]\nname = "ref"\nproblem = "scale.py"\nseed_program = "seed.py"\n'
                      '[budget]\niterations = 3\n[pipeline]\nproposals_in_flight = 1\nevaluators = 1\n'
                      '[evolve]\nislands = 1\n[remeasure]\nenabled = false\n'
                      '[evaluator]\ntrials = 2\nwarmup = 1\nrepeats = 3\nthreads = 1\ncompare_compile = false\n'
                      '[agents.planner]\nkind = "offline"\n[agents.coder]\nkind = "offline"\n'
                      '[agents.reviewer]\nkind = "offline"\n')
    return config


def test_a_one_off_reference_failure_is_evaluated_again_and_charged_to_nobody(ray_session, tmp_path):
    summary = start_campaign(campaign(tmp_path, 12, 13), runs_root=tmp_path / "runs", show_progress=False)
    assert summary.status == "finished" and summary.attempts == 3
    run_dir = tmp_path / "runs" / "ref"
    assert [e["event"] for e in log_events(run_dir)].count("reference failed") == 1
    store = ProgramStore(run_dir / "campaign.db", create=False)
    programs = store.programs(store.campaign_id("ref"))
    assert all(p.status != Status.FAILED for p in programs)
    assert not any("problem broke" in json.dumps(store.evaluations(p.id)) for p in programs)
    store.close()


def test_a_lasting_reference_failure_stops_the_run_and_a_resume_finishes_it(ray_session, tmp_path):
    config = campaign(tmp_path, 12, 10**9)
    with pytest.raises(CampaignError, match="reference fails.*was not charged"):
        start_campaign(config, runs_root=tmp_path / "runs", show_progress=False)
    run_dir = tmp_path / "runs" / "ref"
    db = RunDatabase(run_dir / "campaign.db")
    assert db.query("SELECT COUNT(*) FROM programs WHERE status = 'failed'") == [(0,)]
    assert db.query("SELECT COUNT(*) FROM attempts WHERE status = 'running'") == [(1,)]
    (tmp_path / "scale.py").write_text(PROBLEM.format(fail_from=0, fail_until=0))     # the problem is fixed
    summary = resume_campaign(run_dir, show_progress=False)
    assert summary.status == "finished" and summary.attempts == 3
    assert_exactly_once(db, 3, 16)
    db.close()


def test_a_reference_that_never_works_stops_before_the_seed_is_charged(ray_session, tmp_path):
    with pytest.raises(CampaignError, match="the problem's reference fails .*problem broke on call 1"):
        start_campaign(campaign(tmp_path, 1, 10**9), runs_root=tmp_path / "runs", show_progress=False)
    db = RunDatabase(tmp_path / "runs" / "ref" / "campaign.db")
    assert db.query("SELECT status FROM programs") == [(Status.PROPOSED,)]
    db.close()
