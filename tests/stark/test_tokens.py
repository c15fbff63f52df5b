"""Token counts from the endpoint's own tokenizer when it has one, else a calibrated estimate."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stark.llm.tokens import TokenCounter


def tokenizer_server(route: str):
    """A server with one tokenize route, answering as llama-cpp-python does: one token per word."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if self.path != route:
                self.send_response(404)
                self.end_headers()
                return
            data = json.dumps({"tokens": list(range(len(body["input"].split())))}).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_local_endpoints_tokenizer_is_found_and_used():
    server = tokenizer_server("/extras/tokenize")
    try:
        counter = TokenCounter(f"http://127.0.0.1:{server.server_address[1]}/v1", "m")
        assert counter.count("one two three four") == 4
        assert counter.source == "llama-cpp-python /extras/tokenize"
    finally:
        server.shutdown()


def test_the_estimate_is_conservative_and_corrected_by_reported_usage():
    counter = TokenCounter("https://api.example.invalid/v1", "m", tokenizer="estimate")
    code = "for (int64_t i = i0; i < i1; ++i) { row_c[j] += a_ik * row_b[j]; }\n" * 20
    first = counter.count(code)
    assert first >= len(code) / 3
    counter.observe(first, int(first * 1.5))                 # the endpoint said the prompt was longer
    assert counter.count(code) >= int(first * 1.5) - 1
    counter.observe(first, first // 2)                       # shorter: never scale down below 1
    assert counter.count(code) >= first
