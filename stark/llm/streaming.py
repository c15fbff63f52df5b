"""Reading one chat completion off the wire, streamed or not, under a total deadline and a cancel flag.

Streaming matters for local servers: llama.cpp (and vLLM) stop generating when the client closes a stream,
while a non-streamed request runs to its end even after everyone stopped waiting.  The body is read in raw
chunks so neither a dripping server nor a silent one can hold a try past its budget; a stream that ends
without its finish is a cut-off reply (retried), not a short answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from openai.types.chat import ChatCompletion


class StreamFailed(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    finish_reason: str
    prompt_tokens: int | None
    completion_tokens: int | None


def _bounded(chunks: Iterator[bytes], stop: float, budget_s: float, cancelled: threading.Event) -> Iterator[bytes]:
    for chunk in chunks:
        if cancelled.is_set():
            raise StreamFailed("cancelled", "cancelled: the campaign is shutting down")
        yield chunk
        if time.monotonic() > stop:
            raise StreamFailed("outage", f"timeout: the reply was still arriving after {budget_s:.1f} s")


def read(chunks: Iterator[bytes], budget_s: float, cancelled: threading.Event) -> Completion:
    stop = time.monotonic() + budget_s
    buffer, events = b"", 0
    text, tool_args, finish, usage = [], [], "", None
    first: bytes | None = None
    for chunk in _bounded(chunks, stop, budget_s, cancelled):
        if first is None:
            first = chunk
            if not chunk.lstrip().startswith((b"data:", b":", b"event:", b"id:")):
                return _whole(chunk + b"".join(_bounded(chunks, stop, budget_s, cancelled)))
        buffer += chunk
        while b"\n\n" in buffer or b"\r\n\r\n" in buffer:
            raw, buffer = _split_event(buffer)
            data = b"\n".join(line[5:].strip() for line in raw.splitlines() if line.startswith(b"data:"))
            if not data:
                continue
            if data == b"[DONE]":
                return _completion(text, tool_args, finish or "stop", usage)
            try:
                event = json.loads(data)
            except ValueError:
                raise StreamFailed("malformed", f"malformed stream event: {data[:80]!r}") from None
            if "error" in event:
                raise StreamFailed("outage", f"stream error: {str(event['error'])[:200]}")
            events += 1
            usage = event.get("usage") or usage
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                text.append(delta.get("content") or "")
                for call in delta.get("tool_calls") or []:
                    tool_args.append((call.get("function") or {}).get("arguments") or "")
                finish = choice.get("finish_reason") or finish
    if finish:
        return _completion(text, tool_args, finish, usage)        # some servers end without [DONE]
    raise StreamFailed("malformed", f"malformed stream: it stopped after {events} events without finishing")


def _split_event(buffer: bytes) -> tuple[bytes, bytes]:
    cut = min(i for i in (buffer.find(b"\n\n"), buffer.find(b"\r\n\r\n")) if i >= 0)
    size = 4 if buffer[cut:cut + 4] == b"\r\n\r\n" else 2
    return buffer[:cut], buffer[cut + size:]


def _completion(text: list[str], tool_args: list[str], finish: str, usage: dict | None) -> Completion:
    usage = usage or {}
    body = "".join(tool_args) if tool_args and not "".join(text).strip() else "".join(text)
    return Completion(body, finish, usage.get("prompt_tokens"), usage.get("completion_tokens"))


def _whole(body: bytes) -> Completion:
    """A server that answered a streamed request with one JSON body (or a non-streamed request)."""
    try:
        completion = ChatCompletion.model_validate(json.loads(body))
    except ValueError as exc:
        first = (str(exc).strip().splitlines() or ["invalid"])[0][:200]
        raise StreamFailed("malformed", f"malformed reply ({len(body)} bytes): {first}") from None
    if not completion.choices:
        raise StreamFailed("empty", "response had no choices")
    choice = completion.choices[0]
    text = choice.message.content or ""
    if not text.strip() and choice.message.tool_calls:
        text = "".join(call.function.arguments or "" for call in choice.message.tool_calls)
    usage = completion.usage
    return Completion(text, choice.finish_reason or "stop", getattr(usage, "prompt_tokens", None),
                      getattr(usage, "completion_tokens", None))
