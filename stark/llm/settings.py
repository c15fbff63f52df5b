"""One role's model endpoint and budget; part of the campaign's typed config."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

OUTPUTS = ("text", "json_schema", "json_object", "json_object_schema", "tool")
TOKENIZERS = ("auto", "endpoint", "tiktoken", "estimate")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


@dataclass(frozen=True, slots=True)
class ModelSettings:
    model: str = "gpt-4.1-mini"
    base_url: str = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"
    """The environment variable holding the key; "" for an endpoint that needs none (a local server)."""
    temperature: float = 0.7
    max_output_tokens: int = 4096
    context_tokens: int = 16000
    timeout_s: float = 120.0
    """The most one try may take, from request to the reply's last byte."""
    max_retries: int = 4
    backoff_s: float = 1.0
    call_deadline_s: float = 600.0
    """The most one call may take, all its tries and backoffs together."""
    max_concurrency: int = 0
    """Requests in flight to this endpoint, all roles together; 0 picks 1 for a local server, else 4."""
    usd_per_million_input: float = 0.0
    usd_per_million_output: float = 0.0
    output: str = "text"
    """How replies are asked for: text; json_schema (OpenAI, vLLM, llama.cpp's server); json_object (any JSON);
    json_object_schema (json_object carrying the schema, as llama-cpp-python's server takes it); tool."""
    stream: bool = True
    """Stream replies, so a local server stops generating when a call is abandoned."""
    tokenizer: str = "auto"
    """Where prompt token counts come from: auto (the endpoint's tokenizer, then tiktoken, then an estimate)."""
    truncation_retries: int = 1
    """How often a reply cut at max_output_tokens is asked again with twice the limit (context permitting)."""
    format_retries: int = 1
    """How often a reply that yields no usable plan or edit is sent back to the model with what was wrong."""

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.call_deadline_s <= 0:
            raise ValueError("timeout_s and call_deadline_s must be positive")
        if min(self.max_retries, self.max_concurrency, self.truncation_retries, self.format_retries) < 0:
            raise ValueError("max_retries, max_concurrency, truncation_retries and format_retries must be >= 0")
        if self.max_output_tokens < 1:
            raise ValueError("max_output_tokens must be >= 1")
        if self.context_tokens <= self.max_output_tokens:
            raise ValueError(f"context_tokens ({self.context_tokens}) must exceed max_output_tokens "
                             f"({self.max_output_tokens}): the prompt needs room too")
        if self.output not in OUTPUTS:
            raise ValueError(f"unknown output {self.output!r}; choose one of {', '.join(OUTPUTS)}")
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(f"unknown tokenizer {self.tokenizer!r}; choose one of {', '.join(TOKENIZERS)}")

    @property
    def is_local(self) -> bool:
        return (urlparse(self.base_url).hostname or "") in LOCAL_HOSTS

    def concurrency(self) -> int:
        return self.max_concurrency or (1 if self.is_local else 4)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.usd_per_million_input + completion_tokens * self.usd_per_million_output) / 1e6
