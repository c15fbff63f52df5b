"""What an LLM call returns to its caller and what gets recorded about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LLMCallRecord:
    role: str
    model: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cost_usd: float
    prompt_hash: str
    error: str = ""


@dataclass(frozen=True, slots=True)
class ChatReply:
    """The text (empty when every try failed) and one record per HTTP try, cached hits included.
    `unavailable` says why, when the call failed because the endpoint was down (not because of the request)."""

    text: str
    calls: tuple[LLMCallRecord, ...]
    unavailable: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.calls) and self.calls[-1].status in ("ok", "cached")

    @property
    def error(self) -> str:
        return "" if self.ok or not self.calls else self.calls[-1].error
