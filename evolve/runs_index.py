"""Finding campaigns under a runs directory and opening their databases without changing them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evolve.config import CampaignConfig
from evolve.db.store import ProgramStore
from evolve.run_config import build_run_config, read_run_config
from evolve.run_dir import RunDir


@dataclass(frozen=True, slots=True)
class RunEntry:
    key: str
    run_dir: RunDir
    config: CampaignConfig

    def open_store(self) -> ProgramStore:
        return ProgramStore(self.run_dir.database_target(self.config.campaign.database), create=False, read_only=True)


def run_directories(root: str | Path) -> list[Path]:
    """Every run directory directly under `root` (or `root` itself when it is one), by name; each has a
    config.json, which may still be unreadable."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"runs directory not found: {root}")
    candidates = [root] if (root / "config.json").is_file() else sorted(p for p in root.iterdir() if p.is_dir())
    return [path for path in candidates if RunDir(path).config.is_file()]


def run_entry(path: Path) -> RunEntry:
    """One run directory with its config read (ConfigError: one line naming the file)."""
    run_dir = RunDir(path)
    return RunEntry(path.name, run_dir, build_run_config(run_dir, read_run_config(run_dir)))


def find_runs(root: str | Path) -> list[RunEntry]:
    return [run_entry(path) for path in run_directories(root)]
