"""The campaign config: strict TOML loading, dotted-path errors, --set overrides."""

from pathlib import Path

import pytest

from evolve.config import load_config
from evolve.typed_config import ConfigError, to_data
from tests.conftest import REPO

MINIMAL = '[campaign]\nname = "c"\nproblem = "level1/relu"\nseed_program = "seed.py"\n'


def write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_shipped_config_loads(tmp_path):
    from tests.conftest import REPO

    config = load_config(REPO / "runs" / "matmul_offline.toml")
    assert config.campaign.problem == "level1/matmul_square"
    assert config.evolve.features[0].name == "BLOCK_K" and config.evolve.features[0].edges == (8.0, 32.0, 128.0)
    assert config.agents.planner.kind == "offline"


def test_every_shipped_config_loads():
    from tests.conftest import REPO

    configs = sorted((REPO / "runs").glob("*.toml"))
    assert len(configs) >= 2
    for path in configs:
        assert Path(load_config(path).campaign.seed_program).is_file()


def test_defaults_and_overrides(tmp_path):
    config = load_config(write(tmp_path, MINIMAL), ["evolve.islands=5", "agents.coder.llm.model=\"qwen\"",
                                                   "evaluator.timeouts.verify=9"])
    assert config.evolve.islands == 5 and config.agents.coder.llm.model == "qwen"
    assert config.evaluator.timeouts.verify == 9.0 and config.budget.iterations == 20
    assert to_data(config)["evolve"]["objectives"][0] == {"name": "speedup", "direction": "max"}


@pytest.mark.parametrize("extra,message", [
    ("[evolve]\nislandz = 3\n", "unknown config key evolve.islandz"),
    ("[evolve]\nislands = \"four\"\n", "evolve.islands: expected int, got 'four'"),
    ("[evolve]\nsampler = \"greedy\"\n", "unknown sampler 'greedy'"),
    ("[evaluator]\nbackend = \"tpu\"\n", "unknown backend 'tpu'"),
    ("[agents.coder]\nkind = \"oracle\"\n", "unknown agent kind 'oracle'"),
    ("[budget]\niterations = true\n", "budget.iterations: expected int"),
])
def test_bad_configs_name_the_key(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(write(tmp_path, MINIMAL + extra))


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[campaign\n"))
    with pytest.raises(ConfigError, match=r"missing \[campaign\]"):
        load_config(write(tmp_path, "[budget]\n"))


def test_run_saved_by_an_older_stark_still_reads(tmp_path):
    """Older runs saved `agents.entry_point(s)`, now derived from the problem; reading them must not fail."""
    from evolve.config import CampaignConfig
    from evolve.run_dir import RunDir
    from evolve.typed_config import build

    config = load_config(REPO / "runs" / "kv_eviction_offline.toml")
    data = to_data(config)
    data["agents"]["entry_point"] = "ModelNew"
    run_dir = RunDir(tmp_path / "old")
    run_dir.write_config(data)
    assert build(CampaignConfig, run_dir.read_config()) == config


def test_relative_paths_mean_relative_to_the_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    (folder / "seed.py").write_text("x = 1\n")
    (folder / "planner.md").write_text("You plan. {mission}")
    path = folder / "c.toml"
    path.write_text(MINIMAL + '[agents.planner]\nprompt = "planner.md"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(path)
    assert config.campaign.seed_program == str(folder / "seed.py")
    assert config.agents.planner.prompt == str(folder / "planner.md")
    (elsewhere / "old.py").write_text("x = 2\n")                     # written before the rule: found from cwd
    assert load_config(path, ["campaign.seed_program=old.py"]).campaign.seed_program == str(elsewhere / "old.py")
