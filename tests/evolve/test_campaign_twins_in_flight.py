"""Two attempts in flight that propose the same new program at once: it is evaluated once, the other is recorded
as its duplicate.  The pipeline evaluates accepted proposals itself and the driver records them only afterwards,
so this is the case where neither program is in the database yet when the second one is proposed."""

from evolve.launch import start_campaign
from evolve.records import Status
from tests.conftest import CANDIDATES
from tests.evolve.test_campaign_llm import FALLBACK, config_text, rewrite
from tests.faults.harness import RunDatabase, assert_exactly_once
from tests.scripted_llm_server import ScriptedOpenAIServer

SEED_PATH = CANDIDATES / "relu_evolvable_seed.py"


def test_the_same_program_proposed_twice_at_once_is_evaluated_once(ray_session, tmp_path):
    script = {"coder-model": [rewrite("return torch.clamp_min(x, 0.0)")] * 2}
    with ScriptedOpenAIServer(script, FALLBACK) as server:
        text = (config_text(server.base_url, SEED_PATH).replace('name = "scripted"', 'name = "twins"')
                .replace("iterations = 8", "iterations = 4")
                .replace("proposals_in_flight = 1", "proposals_in_flight = 2")
                .replace("repair_attempts = 1", "repair_attempts = 0"))
        (tmp_path / "c.toml").write_text(text)
        summary = start_campaign(tmp_path / "c.toml", runs_root=tmp_path / "runs", show_progress=False)
        assert server.remaining("coder-model") == 0
    assert summary.status == "finished" and summary.attempts == 4
    db = RunDatabase(tmp_path / "runs" / "twins" / "campaign.db")
    twins = db.query("SELECT id, attempt, status, duplicate_of FROM programs WHERE source LIKE '%clamp_min%' "
                     "AND parent_id = (SELECT id FROM programs WHERE origin = 'seed') ORDER BY id")
    assert sorted(attempt for _, attempt, _, _ in twins) == [1, 2], twins
    (evaluated, duplicate) = (twins[0], twins[1]) if twins[0][2] == Status.EVALUATED else (twins[1], twins[0])
    assert evaluated[2] == Status.EVALUATED and duplicate[2] == Status.DUPLICATE and duplicate[3] == evaluated[0]
    assert db.query("SELECT COUNT(*) FROM evaluations WHERE program_id = :p", p=duplicate[0]) == [(0,)]
    assert_exactly_once(db, 4)          # among others: no two evaluation-bound programs share normalized code
    log = (tmp_path / "runs" / "twins" / "campaign.log").read_text()
    assert "set aside" not in log       # the later attempts' comment-only edits: twins of the seed, known in time
    db.close()
