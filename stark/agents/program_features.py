"""A program's descriptors from its source alone (for MAP-Elites cells and the cost model's features).

Here rather than in evolve/: the proposal pipeline works them out in the agents' process (stark/agents/pipeline.py)
and the campaign reads them from there; the campaign works them out itself only for sources that did not come
through the pipeline (repairs, stages sent again after an outage)."""

from __future__ import annotations

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
