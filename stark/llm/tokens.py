"""Counting prompt tokens the way the endpoint will, so a prompt is sized to the model's real context.

A character estimate undershoots on code (3,000-token budgets produced 3,016-token prompts), so the counter
asks, in order: the endpoint's own tokenizer (llama.cpp's `/tokenize`, llama-cpp-python's
`/extras/tokenize`, vLLM's `/tokenize`), then tiktoken when its encoding is available offline, and only then
a conservative estimate (3 characters a token) that every reply's reported `prompt_tokens` corrects upward.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlparse

import httpx2

from stark.llm.settings import LOCAL_HOSTS

CHARS_PER_TOKEN = 3.0
MESSAGE_OVERHEAD = 8
"""Tokens a chat template adds around each message (role markers, separators); generous on purpose."""


def _root(base_url: str) -> str:
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _endpoint_counters(base_url: str, model: str) -> list[tuple[str, Callable[[str], int]]]:
    root = _root(base_url)

    def llama_cpp(text: str) -> int:
        reply = httpx2.post(f"{root}/tokenize", json={"content": text}, timeout=10)
        reply.raise_for_status()
        return len(reply.json()["tokens"])

    def llama_cpp_python(text: str) -> int:
        reply = httpx2.post(f"{root}/extras/tokenize", json={"input": text, "model": model}, timeout=10)
        reply.raise_for_status()
        return len(reply.json()["tokens"])

    def vllm(text: str) -> int:
        reply = httpx2.post(f"{root}/tokenize", json={"model": model, "prompt": text}, timeout=10)
        reply.raise_for_status()
        data = reply.json()
        return int(data["count"]) if "count" in data else len(data["tokens"])

    return [("llama.cpp /tokenize", llama_cpp), ("llama-cpp-python /extras/tokenize", llama_cpp_python),
            ("vLLM /tokenize", vllm)]


def _tiktoken_counter(model: str) -> Callable[[str], int] | None:
    try:
        import tiktoken

        try:
            encoding = tiktoken.encoding_for_model(model)
        except KeyError:
            encoding = tiktoken.get_encoding("o200k_base")
        encoding.encode("probe")
    except Exception:  # noqa: BLE001 - not installed, or its encoding cannot be fetched offline
        return None
    return lambda text: len(encoding.encode(text, disallowed_special=()))


class TokenCounter:
    """`tokenizer` picks the source: "auto" (a local endpoint's tokenizer, then tiktoken, then the estimate),
    "endpoint" (any endpoint's, e.g. a remote vLLM), "tiktoken", or "estimate".  "auto" does not probe remote
    endpoints: hosted APIs have no tokenize route, and probing one through a firewall costs timeouts."""

    def __init__(self, base_url: str, model: str, tokenizer: str = "auto"):
        self.base_url, self.model, self.choice = base_url, model, tokenizer
        self._count: Callable[[str], int] | None = None
        self.source = ""
        self.scale = 1.0
        self._lock = threading.Lock()

    def _pick(self) -> Callable[[str], int]:
        with self._lock:
            if self._count is not None:
                return self._count
            local = (urlparse(self.base_url).hostname or "") in LOCAL_HOSTS
            if self.choice == "endpoint" or (self.choice == "auto" and local):
                for name, counter in _endpoint_counters(self.base_url, self.model):
                    try:
                        counter("def f(x):\n    return x")
                    except Exception:  # noqa: BLE001 - this server has no such route
                        continue
                    self._count, self.source = counter, name
                    return counter
            if self.choice in ("auto", "tiktoken"):
                counter = _tiktoken_counter(self.model)
                if counter is not None:
                    self._count, self.source = counter, "tiktoken"
                    return counter
            self._count, self.source = self._estimate, f"estimate ({CHARS_PER_TOKEN:g} chars/token, calibrated)"
            return self._count

    def _estimate(self, text: str) -> int:
        return int(len(text) / CHARS_PER_TOKEN * self.scale) + 1

    def count(self, text: str) -> int:
        counter = self._pick()
        try:
            return counter(text)
        except Exception:  # noqa: BLE001 - the endpoint's tokenizer went away mid-run: estimate instead
            return self._estimate(text)

    def count_messages(self, messages: list[dict[str, str]]) -> int:
        return sum(self.count(m.get("content", "")) + MESSAGE_OVERHEAD for m in messages)

    def prompt_size(self, messages: list[dict[str, str]], reported: int | None) -> int:
        """The prompt's tokens: as the endpoint reported them (an estimate learns from that), else counted here."""
        if reported is None:
            return self.count_messages(messages)
        if self._pick() == self._estimate:
            self.observe(self.count_messages(messages), reported)
        return reported

    def observe(self, counted: int, reported: int | None) -> None:
        """The endpoint said how many tokens the prompt really was: an estimate that came in low scales up."""
        if reported and counted and self.source.startswith("estimate") and reported > counted:
            self.scale = min(3.0, self.scale * reported / counted)
