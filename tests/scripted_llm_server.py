"""Test double of an LLM service: a real OpenAI-compatible HTTP server on 127.0.0.1 replaying scripted replies.

Each model name has its own queue of steps; a step is a status code, a reply text, an optional delay
(to push a client past its timeout) and optional headers.  When a queue runs dry the model's fallback
step repeats.  Every request is kept so tests can check what the agents actually sent.
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


class ScriptedOpenAIServer:
    def __init__(self, script: dict[str, list[Step]] | None = None, fallback: dict[str, Step] | None = None):
        self.queues = {model: deque(steps) for model, steps in (script or {}).items()}
        self.fallback = dict(fallback or {})
        self.requests: list[dict] = []
        self.lock = threading.Lock()
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

    def remaining(self, model: str) -> int:
        with self.lock:
            return len(self.queues.get(model, ()))

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                model = body.get("model", "")
                with double.lock:
                    double.requests.append(body)
                step = double.next_step(model)
                time.sleep(step.delay_s)
                if step.status != 200:
                    return self._send(step.status, {"error": {"message": step.content or "scripted error",
                                                              "type": "scripted"}}, step.headers)
                prompt = sum(len(m.get("content", "")) for m in body.get("messages", []))
                self._send(200, {
                    "id": f"chatcmpl-{len(double.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": step.content},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt // 4, "completion_tokens": len(step.content) // 4,
                              "total_tokens": prompt // 4 + len(step.content) // 4},
                }, step.headers)

            def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
