"""Test double of an LLM service: a real OpenAI-compatible HTTP server on 127.0.0.1 replaying scripted replies.

Each model name has its own queue of steps; a step is a status code, a reply text, a finish reason
("length" for a reply cut at the token limit), an optional delay
(to push a client past its timeout), optional headers, and a way to misbehave: `truncated` (a 200 whose JSON
stops halfway), `drip` (the body one byte every `drip_s` seconds), `reset` (the connection dropped without a
reply).  When a queue runs dry the model's fallback step repeats.  `outage(seconds)` makes every request,
model listings included, fail with 503 for a while, as a server that went down would.  Every request is kept
so tests can check what the agents actually sent.  A request with `stream: true` is answered as a real server
does, with server-sent events (content in pieces, the finish, usage when asked, `[DONE]`); a request with
`tools` gets the reply text back as the tool call's arguments.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Step:
    content: str = ""
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    misbehave: str = ""
    drip_s: float = 1.0
    finish_reason: str = "stop"


class ScriptedOpenAIServer:
    def __init__(self, script: dict[str, list[Step]] | None = None, fallback: dict[str, Step] | None = None,
                 require_key: str = ""):
        self.require_key = require_key
        self.queues = {model: deque(steps) for model, steps in (script or {}).items()}
        self.fallback = dict(fallback or {})
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.model_listings = 0
        self.in_flight = 0
        self.most_in_flight = 0
        """The most completions it was ever serving at once (a local server serves one)."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next_step(self, model: str) -> Step:
        with self.lock:
            queue = self.queues.get(model)
            if queue:
                return queue.popleft()
        return self.fallback.get(model, Step("no scripted reply", status=500))

    def outage(self, seconds: float) -> None:
        self.down_until = time.monotonic() + seconds

    def is_down(self) -> bool:
        return time.monotonic() < self.down_until

    def remaining(self, model: str) -> int:
        with self.lock:
            return len(self.queues.get(model, ()))

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def answered_without_serving(self, route: str) -> bool:
                """Refuse what a real server would refuse before looking at the request: a missing key (401, as
                hosted APIs do), any request during an outage (503), an unknown route (404)."""
                if double.require_key and self.headers.get("authorization") != f"Bearer {double.require_key}":
                    self._send(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
                elif double.is_down():
                    self._send(503, {"error": {"message": "scripted outage"}})
                elif not self.path.endswith(route):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                else:
                    return False
                return True

            def do_GET(self) -> None:
                if self.answered_without_serving("/models"):
                    return
                with double.lock:
                    double.model_listings += 1
                    models = sorted(set(double.queues) | set(double.fallback))
                self._send(200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "scripted"}
                                                             for m in models]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if self.answered_without_serving("/chat/completions"):
                    return
                with double.lock:
                    double.in_flight += 1
                    double.most_in_flight = max(double.most_in_flight, double.in_flight)
                try:
                    self.complete(body)
                finally:
                    with double.lock:
                        double.in_flight -= 1

            def complete(self, body: dict) -> None:
                model = body.get("model", "")
                with double.lock:
                    double.requests.append(body)
                step = double.next_step(model)
                time.sleep(step.delay_s)
                if step.status != 200:
                    return self._send(step.status, {"error": {"message": step.content or "scripted error",
                                                              "type": "scripted"}}, step.headers)
                if step.misbehave == "reset":
                    self.close_connection = True
                    return self.connection.shutdown(2)
                prompt = sum(len(m.get("content", "")) for m in body.get("messages", []))
                if body.get("stream"):
                    return self._stream(body, step, prompt)
                message = {"role": "assistant", "content": step.content}
                if body.get("tools"):
                    message = {"role": "assistant", "content": None, "tool_calls": [{
                        "id": "call-1", "type": "function",
                        "function": {"name": body["tools"][0]["function"]["name"], "arguments": step.content}}]}
                self._send(200, {
                    "id": f"chatcmpl-{len(double.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": step.finish_reason}],
                    "usage": {"prompt_tokens": prompt // 4, "completion_tokens": len(step.content) // 4,
                              "total_tokens": prompt // 4 + len(step.content) // 4},
                }, step.headers, step)

            def _stream(self, body: dict, step: Step, prompt: int) -> None:
                """Server-sent events as OpenAI, vLLM and llama.cpp send them."""
                base = {"id": f"chatcmpl-{len(double.requests)}", "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": body.get("model", "")}
                pieces = [step.content[i:i + 16] for i in range(0, len(step.content), 16)] or [""]
                tools = bool(body.get("tools"))
                events = []
                for i, piece in enumerate(pieces):
                    delta = ({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} if tools
                             else {"content": piece})
                    if i == 0:
                        delta["role"] = "assistant"
                    events.append({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": step.finish_reason}]})
                if (body.get("stream_options") or {}).get("include_usage"):
                    events.append({**base, "choices": [], "usage": {
                        "prompt_tokens": prompt // 4, "completion_tokens": len(step.content) // 4,
                        "total_tokens": prompt // 4 + len(step.content) // 4}})
                data = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
                if step.misbehave == "truncated":      # the stream stops halfway, no finish, no [DONE]
                    data = data[: len(data) // 2]
                try:
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    if step.misbehave == "drip":
                        for i in range(len(data)):
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                            time.sleep(step.drip_s)
                    else:
                        for i in range(0, len(data), 256):
                            self.wfile.write(data[i:i + 256])
                            self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

            def _send(self, status: int, payload: dict, headers: dict | None = None, step: Step | None = None) -> None:
                data = json.dumps(payload).encode()
                misbehave = step.misbehave if step is not None else ""
                if misbehave == "truncated":         # a well-formed HTTP reply whose JSON stops halfway
                    data = data[: len(data) // 2]
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    if misbehave == "drip":
                        for i in range(len(data)):
                            self.wfile.write(data[i:i + 1])
                            self.wfile.flush()
                            time.sleep(step.drip_s)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

        return Handler
