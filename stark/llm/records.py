"""What an LLM call returns to its caller and what gets recorded about it."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

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
    prompt_z: bytes = field(default=b"", init=False, repr=False, compare=False)
    """The prompt and the response zlib-compressed where the call was made (in the agent's process), as the
    program database stores them: the campaign loop records every call and should not spend its time packing."""
    response_z: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompt_z", packed(self.prompt))
        object.__setattr__(self, "response_z", packed(self.response))


def packed(text: str) -> bytes:
    return zlib.compress(text.encode(), 6) if text else b""


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
