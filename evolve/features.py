"""Metrics of an evaluated program (for Pareto objectives); its descriptors come from its source alone
(stark/agents/program_features.py)."""

from __future__ import annotations

from typing import Any


def program_metrics(source: str, result: dict[str, Any]) -> dict[str, float]:
    profile = result.get("profile") or {}
    candidate = profile.get("candidate") or {}
    return {
        **{name: float(value) for name, value in (result.get("metrics") or {}).items()},
        "speedup": float(result.get("speedup_vs_eager") or 0.0),
        "speedup_vs_compile": float(result.get("speedup_vs_compile") or 0.0),
        "runtime_us": float(candidate.get("median_us") or 0.0),
        "code_size": float(len(source.encode())),
    }
