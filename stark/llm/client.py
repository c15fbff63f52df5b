"""Chat completions against any OpenAI-compatible endpoint, through the `openai` package.

Rate limits, server errors, timeouts and dropped connections are retried with exponential backoff
(honouring Retry-After); client errors (bad request, auth, unknown model) are not.  Every try is
recorded, so tokens and dollars add up even for calls that failed in the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from typing import Protocol

import openai

from stark.llm.cache import ResponseCache
from stark.llm.records import ChatReply, LLMCallRecord
from stark.llm.settings import ModelSettings

RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError, openai.APIConnectionError,
             openai.ConflictError)
MAX_RETRY_AFTER_S = 60.0


class LLMClient(Protocol):
    def chat(self, role: str, messages: list[dict[str, str]]) -> ChatReply: ...


def prompt_hash(settings: ModelSettings, messages: list[dict[str, str]]) -> str:
    key = json.dumps({"model": settings.model, "temperature": settings.temperature, "messages": messages},
                     sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()


class OpenAIChatClient:
    def __init__(self, settings: ModelSettings, cache: ResponseCache | None = None, seed: int = 0):
        self.settings = settings
        self.cache = cache
        self._rng = random.Random(seed)
        self._slots = threading.BoundedSemaphore(settings.max_concurrency)
        api_key = os.environ.get(settings.api_key_env, "") or "not-needed"
        self._client = openai.OpenAI(base_url=settings.base_url, api_key=api_key, timeout=settings.timeout_s,
                                     max_retries=0)

    def chat(self, role: str, messages: list[dict[str, str]]) -> ChatReply:
        digest = prompt_hash(self.settings, messages)
        if self.cache is not None and (hit := self.cache.get(digest)) is not None:
            return ChatReply(hit, (LLMCallRecord(role, self.settings.model, "cached", 0, 0, 0.0, 0.0, digest),))
        calls: list[LLMCallRecord] = []
        for attempt in range(self.settings.max_retries + 1):
            started = time.monotonic()
            try:
                with self._slots:
                    response = self._client.chat.completions.create(
                        model=self.settings.model, messages=messages, temperature=self.settings.temperature,
                        max_tokens=self.settings.max_output_tokens)
            except RETRYABLE as exc:
                calls.append(self._failed(role, digest, started, exc))
                if attempt < self.settings.max_retries:
                    time.sleep(self._delay(attempt, exc))
                continue
            except openai.APIError as exc:
                calls.append(self._failed(role, digest, started, exc))
                break
            text, record = self._succeeded(role, digest, started, response)
            calls.append(record)
            if self.cache is not None and text:
                self.cache.put(digest, text)
            return ChatReply(text, tuple(calls))
        return ChatReply("", tuple(calls))

    def _succeeded(self, role: str, digest: str, started: float, response) -> tuple[str, LLMCallRecord]:
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        choices = getattr(response, "choices", None) or []
        text = (choices[0].message.content or "") if choices else ""
        status = "ok" if text else "empty"
        return text, LLMCallRecord(role, self.settings.model, status, prompt_tokens, completion_tokens,
                                   time.monotonic() - started, self.settings.cost(prompt_tokens, completion_tokens),
                                   digest, "" if text else "response had no message content")

    def _failed(self, role: str, digest: str, started: float, exc: Exception) -> LLMCallRecord:
        status = getattr(exc, "status_code", None)
        label = f"HTTP {status}" if status else type(exc).__name__
        message = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return LLMCallRecord(role, self.settings.model, "error", 0, 0, time.monotonic() - started, 0.0, digest,
                             f"{label}: {message}")

    def _delay(self, attempt: int, exc: Exception) -> float:
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                return min(float(retry_after), MAX_RETRY_AFTER_S)
            except ValueError:
                pass
        return self.settings.backoff_s * (2**attempt) * (0.5 + self._rng.random() / 2)
