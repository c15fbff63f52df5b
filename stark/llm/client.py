"""Chat completions against any OpenAI-compatible endpoint, through the `openai` package.

Every failure the endpoint can cause is retried with exponential backoff (honouring Retry-After) under one
total deadline per call: rate limits, server errors, timeouts, dropped connections, a reply whose JSON is
malformed or cut short, a reply with no content.  Each try is bounded as a whole, not per read, so a server
that drips its reply a byte at a time cannot hold a call past `timeout_s`.  Client errors (bad request, unknown
model) are not retried.  When every try failed because the endpoint was down, the reply says so
(`unavailable`), so the campaign can wait for it instead of spending attempts.  Every try is recorded, so
tokens and dollars add up even for calls that failed in the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import httpx2
import openai
from openai.types.chat import ChatCompletion

from stark.llm.cache import ResponseCache
from stark.llm.records import ChatReply, LLMCallRecord
from stark.llm.settings import ModelSettings

OUTAGE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError, openai.APIConnectionError,
          openai.ConflictError)
AUTH = (openai.AuthenticationError, openai.PermissionDeniedError)
MAX_RETRY_AFTER_S = 60.0


class LLMClient(Protocol):
    def chat(self, role: str, messages: list[dict[str, str]]) -> ChatReply: ...


@dataclass(frozen=True, slots=True)
class TryFailed(Exception):
    """One try's failure: `kind` is outage (endpoint down or overloaded), malformed (a reply that is not a chat
    completion), empty (no content), auth (key rejected) or client (a request the endpoint refuses)."""

    kind: str
    message: str
    retry_after_s: float | None = None

    @property
    def retryable(self) -> bool:
        return self.kind in ("outage", "malformed", "empty")


def prompt_hash(settings: ModelSettings, messages: list[dict[str, str]]) -> str:
    key = json.dumps({"model": settings.model, "temperature": settings.temperature, "messages": messages},
                     sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def classify(exc: BaseException) -> TryFailed:
    """An exception from the openai package (or the transport under it) as one try's failure."""
    if isinstance(exc, TryFailed):
        return exc
    status = getattr(exc, "status_code", None)
    label = f"HTTP {status}: " if status else f"{type(exc).__name__}: "
    if isinstance(exc, AUTH):
        return TryFailed("auth", label + _first_line(exc))
    if isinstance(exc, OUTAGE) or isinstance(exc, httpx2.TransportError):
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        try:
            delay = min(float(retry_after), MAX_RETRY_AFTER_S) if retry_after else None
        except ValueError:
            delay = None
        return TryFailed("outage", label + _first_line(exc), delay)
    if isinstance(exc, openai.APIResponseValidationError):
        return TryFailed("malformed", label + _first_line(exc))
    if isinstance(exc, openai.APIStatusError):
        return TryFailed("outage" if (status or 0) >= 500 else "client", label + _first_line(exc))
    return TryFailed("outage", label + _first_line(exc))


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
        deadline = time.monotonic() + self.settings.call_deadline_s
        failure: TryFailed | None = None
        for attempt in range(self.settings.max_retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            started = time.monotonic()
            try:
                with self._slots:
                    completion = self._complete(messages, min(self.settings.timeout_s, remaining))
                text, record = self._succeeded(role, digest, started, completion)
            except Exception as exc:  # noqa: BLE001 - whatever the endpoint did, it is data for this call
                failure = classify(exc)
                calls.append(self._failed(role, digest, started, failure))
                if not failure.retryable:
                    break
                if attempt < self.settings.max_retries:
                    time.sleep(max(0.0, min(self._delay(attempt, failure), deadline - time.monotonic())))
                continue
            calls.append(record)
            if self.cache is not None:
                self.cache.put(digest, text)
            return ChatReply(text, tuple(calls))
        outage = failure is not None and failure.kind in ("outage", "malformed", "auth")
        reason = failure.message if failure is not None else "call deadline passed before a try could start"
        return ChatReply("", tuple(calls), unavailable=reason if outage or failure is None else "")

    def _complete(self, messages: list[dict[str, str]], budget_s: float) -> ChatCompletion:
        """One try, bounded as a whole: the body is read in chunks and abandoned once `budget_s` has passed."""
        stop = time.monotonic() + budget_s
        with self._client.chat.completions.with_streaming_response.create(
                model=self.settings.model, messages=messages, temperature=self.settings.temperature,
                max_tokens=self.settings.max_output_tokens, timeout=budget_s) as response:
            chunks = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > stop:
                    raise TryFailed("outage", f"timeout: the reply was still arriving after {budget_s:.1f} s")
        body = b"".join(chunks)
        try:
            completion = ChatCompletion.model_validate(json.loads(body))
        except ValueError as exc:
            raise TryFailed("malformed", f"malformed reply ({len(body)} bytes): {_first_line(exc)}") from None
        if not completion.choices or not (completion.choices[0].message.content or "").strip():
            raise TryFailed("empty", "response had no message content")
        return completion

    def _succeeded(self, role: str, digest: str, started: float,
                   completion: ChatCompletion) -> tuple[str, LLMCallRecord]:
        usage = completion.usage
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        text = completion.choices[0].message.content or ""
        return text, LLMCallRecord(role, self.settings.model, "ok", prompt_tokens, completion_tokens,
                                   time.monotonic() - started, self.settings.cost(prompt_tokens, completion_tokens),
                                   digest)

    def _failed(self, role: str, digest: str, started: float, failure: TryFailed) -> LLMCallRecord:
        status = "empty" if failure.kind == "empty" else "error"
        return LLMCallRecord(role, self.settings.model, status, 0, 0, time.monotonic() - started, 0.0, digest,
                             failure.message)

    def _delay(self, attempt: int, failure: TryFailed) -> float:
        if failure.retry_after_s is not None:
            return failure.retry_after_s
        return self.settings.backoff_s * (2**attempt) * (0.5 + self._rng.random() / 2)

    def probe(self) -> TryFailed | None:
        """Is the endpoint there and does it take our key?  A models listing (no tokens spent); servers without
        one get a one-token completion instead.  None when it answers."""
        try:
            self._client.models.list(timeout=min(self.settings.timeout_s, 10.0))
            return None
        except openai.NotFoundError:
            pass
        except Exception as exc:  # noqa: BLE001
            return classify(exc)
        try:
            self._client.chat.completions.create(model=self.settings.model, max_tokens=1,
                                                 messages=[{"role": "user", "content": "ping"}],
                                                 timeout=min(self.settings.timeout_s, 30.0))
            return None
        except Exception as exc:  # noqa: BLE001
            return classify(exc)
