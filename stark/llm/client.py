"""Chat completions against any OpenAI-compatible endpoint, through the `openai` package.

Replies are streamed (see streaming.py): a local server stops generating when we stop listening.  A reply
cut at the output token limit is recorded as `truncated` and asked again with a larger limit while the
context has room.  Every try keeps the prompt it sent and the text it got back, so every call can be read
later.

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

from stark.llm.cache import ResponseCache
from stark.llm.records import ChatReply, LLMCallRecord
from stark.llm.settings import ModelSettings
from stark.llm.streaming import Completion, StreamFailed, read
from stark.llm.tokens import TokenCounter

OUTAGE = (openai.RateLimitError, openai.InternalServerError, openai.APITimeoutError, openai.APIConnectionError,
          openai.ConflictError)
AUTH = (openai.AuthenticationError, openai.PermissionDeniedError)
MAX_RETRY_AFTER_S = 60.0


class LLMClient(Protocol):
    tokens: TokenCounter

    def chat(self, role: str, messages: list[dict[str, str]], schema: dict | None = None) -> ChatReply: ...


class MissingKey(ValueError):
    """The config names a key variable that is not set: a one-line error at start, not a placeholder key."""


def api_key(settings: ModelSettings) -> str:
    if not settings.api_key_env:
        return "not-needed"
    key = os.environ.get(settings.api_key_env, "")
    if not key:
        raise MissingKey(f"${settings.api_key_env} is not set (the key for {settings.base_url}); export it, "
                         f"or set api_key_env = \"\" for an endpoint that needs no key")
    return key


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


def output_options(settings: ModelSettings, schema: dict | None) -> dict:
    """Request fields that ask the endpoint for structured output, per the role's `output` setting."""
    if schema is None or settings.output == "text":
        return {}
    if settings.output == "json_object":
        return {"response_format": {"type": "json_object"}}
    if settings.output == "json_object_schema":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if settings.output == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}}
    return {"tools": [{"type": "function", "function": {"name": "reply", "description": "give the answer",
                                                        "parameters": schema}}],
            "tool_choice": {"type": "function", "function": {"name": "reply"}}}


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
    if isinstance(exc, StreamFailed):
        return TryFailed(exc.kind, exc.message)
    status = getattr(exc, "status_code", None)
    label = f"HTTP {status}: " if status else f"{type(exc).__name__}: "
    if isinstance(exc, AUTH):
        return TryFailed("auth", label + _first_line(exc))
    if isinstance(exc, openai.APIStatusError) and "validation error" in str(exc):
        return TryFailed("client", label + _first_line(exc))   # llama-cpp-python refuses a request with a 500
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
    def __init__(self, settings: ModelSettings, cache: ResponseCache | None = None, seed: int = 0, gate=None):
        self.settings = settings
        self.cache = cache
        self.tokens = TokenCounter(settings.base_url, settings.model, settings.tokenizer)
        self._rng = random.Random(seed)
        self._gate = gate
        self._slots = threading.BoundedSemaphore(settings.concurrency())
        self._cancelled = threading.Event()
        self._client = openai.OpenAI(base_url=settings.base_url, api_key=api_key(settings),
                                     timeout=settings.timeout_s, max_retries=0)

    def cancel(self) -> None:
        """Stop every call in progress at its next chunk; later calls fail at once."""
        self._cancelled.set()

    def chat(self, role: str, messages: list[dict[str, str]], schema: dict | None = None) -> ChatReply:
        settings = self.settings
        prompt = json.dumps(messages, ensure_ascii=False)
        digest = prompt_hash(settings, messages)
        if self.cache is not None and (hit := self.cache.get(digest)) is not None:
            return ChatReply(hit, (LLMCallRecord(role, settings.model, "cached", 0, 0, 0.0, 0.0, digest,
                                                 prompt=prompt, response=hit),))
        calls: list[LLMCallRecord] = []
        deadline = time.monotonic() + settings.call_deadline_s
        failure: TryFailed | None = None
        max_tokens, lengthened = settings.max_output_tokens, 0
        attempt = 0
        while attempt <= settings.max_retries:
            remaining = deadline - time.monotonic()
            if remaining <= 0.05 or self._cancelled.is_set():
                break
            started = time.monotonic()
            try:
                with self._slot(remaining):
                    started = time.monotonic()
                    completion = self._complete(messages, min(settings.timeout_s, remaining), max_tokens, schema)
            except Exception as exc:  # noqa: BLE001 - whatever the endpoint did, it is data for this call
                failure = classify(exc)
                calls.append(self._record(role, digest, started, prompt, failure=failure))
                if not failure.retryable or self._cancelled.is_set():
                    break
                if attempt < settings.max_retries:
                    time.sleep(max(0.0, min(self._delay(attempt, failure), deadline - time.monotonic())))
                attempt += 1
                continue
            prompt_tokens = self.tokens.prompt_size(messages, completion.prompt_tokens)
            record = self._record(role, digest, started, prompt, completion=completion, prompt_tokens=prompt_tokens)
            calls.append(record)
            if record.status == "truncated":
                room = settings.context_tokens - prompt_tokens
                longer = min(max_tokens * 2, room - 16)
                if lengthened < settings.truncation_retries and longer > max_tokens:
                    max_tokens, lengthened = longer, lengthened + 1
                    continue                    # asked again with room to finish; not an outage, no backoff
                return ChatReply(completion.text, tuple(calls), truncated=True)
            if self.cache is not None:
                self.cache.put(digest, completion.text)
            return ChatReply(completion.text, tuple(calls))
        outage = failure is not None and failure.kind in ("outage", "malformed", "auth")
        reason = failure.message if failure is not None else "call deadline passed before a try could start"
        if self._cancelled.is_set():
            return ChatReply("", tuple(calls))
        return ChatReply("", tuple(calls), unavailable=reason if outage or failure is None else "")

    def _slot(self, wait_s: float):
        """A request slot: the endpoint's shared gate when the campaign runs one, else this client's own."""
        if self._gate is None:
            return self._slots
        from stark.llm.gate import GateSlot

        return GateSlot(self._gate, lease_s=self.settings.timeout_s + 5.0, wait_s=wait_s)

    def _complete(self, messages: list[dict[str, str]], budget_s: float, max_tokens: int,
                  schema: dict | None) -> Completion:
        """One try, bounded as a whole: the body is read in chunks and abandoned once `budget_s` has passed."""
        settings = self.settings
        extra = {"stream": True, "stream_options": {"include_usage": True}} if settings.stream else {}
        with self._client.chat.completions.with_streaming_response.create(
                model=settings.model, messages=messages, temperature=settings.temperature, max_tokens=max_tokens,
                timeout=budget_s, **extra, **output_options(settings, schema)) as response:
            completion = read(response.iter_bytes(), budget_s, self._cancelled)
        if not completion.text.strip():
            raise TryFailed("empty", "response had no message content"
                            + (" (cut at the output token limit)" if completion.finish_reason == "length" else ""))
        return completion

    def _record(self, role: str, digest: str, started: float, prompt: str, completion: Completion | None = None,
                failure: TryFailed | None = None, prompt_tokens: int = 0) -> LLMCallRecord:
        latency = time.monotonic() - started
        if failure is not None:
            status = "empty" if failure.kind == "empty" else "error"
            return LLMCallRecord(role, self.settings.model, status, 0, 0, latency, 0.0, digest, failure.message,
                                 prompt=prompt)
        completion_tokens = completion.completion_tokens
        if completion_tokens is None:           # a stream without usage: count it ourselves, budgets need it
            completion_tokens = self.tokens.count(completion.text)
        truncated = completion.finish_reason == "length"
        return LLMCallRecord(role, self.settings.model, "truncated" if truncated else "ok", prompt_tokens,
                             completion_tokens, latency, self.settings.cost(prompt_tokens, completion_tokens), digest,
                             f"cut at the output token limit ({completion_tokens or '?'} tokens)" if truncated else "",
                             prompt=prompt, response=completion.text, finish_reason=completion.finish_reason)

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
