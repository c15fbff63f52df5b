"""One role's model endpoint and budget; part of the campaign's typed config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelSettings:
    model: str = "gpt-4.1-mini"
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.7
    max_output_tokens: int = 4096
    context_tokens: int = 16000
    timeout_s: float = 120.0
    """The most one try may take, from request to the reply's last byte."""
    max_retries: int = 4
    backoff_s: float = 1.0
    call_deadline_s: float = 600.0
    """The most one call may take, all its tries and backoffs together."""
    max_concurrency: int = 4
    usd_per_million_input: float = 0.0
    usd_per_million_output: float = 0.0

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.call_deadline_s <= 0:
            raise ValueError("timeout_s and call_deadline_s must be positive")
        if self.max_retries < 0 or self.max_concurrency < 1 or self.max_output_tokens < 1:
            raise ValueError("max_retries must be >= 0, max_concurrency and max_output_tokens >= 1")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.usd_per_million_input + completion_tokens * self.usd_per_million_output) / 1e6
