"""Metrics (for Pareto objectives) and descriptors (for MAP-Elites cells) of an evaluated program."""

from __future__ import annotations

from typing import Any

from stark.agents.offline import tunables


def program_features(source: str) -> dict[str, float]:
    features: dict[str, float] = {
        "code_lines": float(sum(1 for line in source.splitlines() if line.strip())),
        "uses_cpp": float("load_inline" in source or "cpp_extension" in source),
        "uses_triton": float("triton" in source),
    }
    for tunable in tunables(source):
        if isinstance(tunable.value, (int, float)) and not isinstance(tunable.value, bool):
            features[tunable.name] = float(tunable.value)
    return features


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
