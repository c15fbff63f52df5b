"""What an LLM call returns to its caller and what gets recorded about it."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("ok", "cached", "truncated", "empty", "error")
"""How one HTTP try ended: `truncated` is a reply cut at the output token limit (finish_reason "length")."""


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
    prompt: str = ""
    """The messages sent, as JSON: kept so anyone can read what a model was asked."""
    response: str = ""
    finish_reason: str = ""


@dataclass(frozen=True, slots=True)
class ChatReply:
    """The text (empty when every try failed) and one record per HTTP try, cached hits included.
    `unavailable` says why, when the call failed because the endpoint was down (not because of the request).
    `truncated` is set when the text is what the model wrote before it hit the output token limit."""

    text: str
    calls: tuple[LLMCallRecord, ...]
    unavailable: str = ""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.calls) and self.calls[-1].status in ("ok", "cached", "truncated")

    @property
    def error(self) -> str:
        return "" if self.ok or not self.calls else self.calls[-1].error
