"""Real campaigns for the viewer's tests (run once per session: they take half a minute), and a viewer served by
uvicorn on a real port."""

import json
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import uvicorn

from evolve.launch import start_campaign
from evolve.viewer.app import create_app
from tests.conftest import CANDIDATES, REPO
from tests.evolve.test_campaign_llm import FALLBACK, rewrite, role
from tests.scripted_llm_server import ScriptedOpenAIServer, Step

SEED = (CANDIDATES / "relu_evolvable_seed.py").read_text()
BROKEN = Step("```python\n" + SEED.replace("return torch.relu(x) * 1.0", "return x * 3") + "```")


@pytest.fixture(scope="session")
def runs_root(ray_session, tmp_path_factory):
    root = tmp_path_factory.mktemp("viewer-runs")
    edits = [rewrite(f"return {body}") for body in ("torch.relu(x)", "x.clamp_min(0.0)", "torch.clamp(x, min=0.0)")]
    with ScriptedOpenAIServer({"coder-model": [BROKEN, *edits]}, FALLBACK) as server:
        config = root / "c.toml"
        text = (f'[campaign]\nname = "viewed"\nproblem = "level1/relu"\nseed_program = "{CANDIDATES / "relu_evolvable_seed.py"}"\n'
                f'[budget]\niterations = 5\n[pipeline]\nproposals_in_flight = 1\nrepair_attempts = 0\n'
                f'[evolve]\nislands = 1\n[evaluator]\ntrials = 1\nrepeats = 3\nthreads = 1\n')
        for name in ("planner", "coder", "reviewer"):
            text += f"[agents.{name}]\n" + role(name, server.base_url)
        config.write_text(text)
        start_campaign(config, runs_root=root / "runs", show_progress=False)
    start_campaign(REPO / "runs" / "scratchpad_offline.toml", runs_root=root / "runs", show_progress=False,
                   overrides=["budget.iterations=4", "pipeline.proposals_in_flight=1"])
    return root / "runs"


@pytest.fixture(scope="module")
def viewer(runs_root):
    with serve(runs_root) as url:
        yield url


class serve:
    """`stark serve` of a runs directory on a free port, for as long as the block lasts."""

    def __init__(self, root: Path):
        self.server = uvicorn.Server(uvicorn.Config(create_app(root), host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.server.servers[0].sockets[0].getsockname()[1]}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def get(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


