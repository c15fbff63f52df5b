"""Turning an EvalRequest into JSON and back, for the socket between parent and worker."""

from __future__ import annotations

import dataclasses
from typing import Any

from evaluators.config import EvalConfig, EvalRequest, StageTimeouts
from kernelbench.problem import ProblemRef


def request_to_dict(request: EvalRequest) -> dict[str, Any]:
    return dataclasses.asdict(request)


def request_from_dict(data: dict[str, Any]) -> EvalRequest:
    config = dict(data["config"])
    config["timeouts"] = StageTimeouts(**config["timeouts"])
    config["tolerances"] = tuple(tuple(t) for t in config["tolerances"])
    config["forbidden_ops"] = tuple(config.get("forbidden_ops", ()))
    config["hidden_paths"] = tuple(config.get("hidden_paths", ()))
    return EvalRequest(
        problem=ProblemRef(**data["problem"]),
        candidate_source=data["candidate_source"],
        config=EvalConfig(**config),
        build_cache_dir=data["build_cache_dir"],
    )
