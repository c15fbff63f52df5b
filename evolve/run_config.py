"""A run's saved config (`<run>/config.json`): read with one-line errors, and checked against what the run
started with, because some settings define what its scores mean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evolve.config import CampaignConfig
from evolve.run_dir import RunDir
from evolve.typed_config import ConfigError, build

FIXED_AT_START = (("campaign", "problem"), ("campaign", "seed"), ("campaign", "shapes"),
                  ("campaign", "kernelbench_dir"), ("evolve", "objectives"), ("evaluator", "backend"),
                  ("evaluator", "harness"), ("evaluator", "precision"))
"""What a run's programs were scored under: changing any of it between runs would mix incomparable programs."""


def check_compatible(saved: dict[str, Any], current: dict[str, Any], config_file: Path) -> None:
    """Refuse a config.json edited since the run started in a way that changes what its scores mean."""
    for section, key in FIXED_AT_START:
        before = saved.get(section, {}).get(key)
        after = current.get(section, {}).get(key)
        if before is not None and before != after:
            raise ConfigError(f"{config_file}: {section}.{key} changed from {json.dumps(before)} to "
                              f"{json.dumps(after)} since the run started; restore it, or start a new campaign")


def read_run_config(run_dir: RunDir) -> dict[str, Any]:
    try:
        return run_dir.read_config()
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{run_dir.config}: invalid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                          "restore it (the database keeps the original under campaigns.config)") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{run_dir.config}: not a text file; restore it") from None


def build_run_config(run_dir: RunDir, data: dict[str, Any]) -> CampaignConfig:
    try:
        return build(CampaignConfig, data)
    except ConfigError as exc:
        raise ConfigError(f"{run_dir.config}: {exc}") from None
