"""A build directory per extension source, so candidates that differ only in Python reuse the compiled code.

`load_inline` is wrapped inside the worker: unless the candidate names a build directory itself, the
extension is built under `<cache>/extensions/<hash of name, sources and flags>`.  An unchanged C++ source
then loads in milliseconds even when the surrounding Python (say, a tuned block size) changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import torch.utils.cpp_extension as cpp_extension

_original_load_inline = cpp_extension.load_inline


def extension_key(name: str, args: tuple, kwargs: dict) -> str:
    material = json.dumps({"name": name, "args": [str(a) for a in args],
                           "kwargs": {k: str(v) for k, v in sorted(kwargs.items())}}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def install(cache_root: str | Path) -> None:
    root = Path(cache_root) / "extensions"

    @functools.wraps(_original_load_inline)
    def load_inline(name, *args, **kwargs):
        if kwargs.get("build_directory") is None:
            directory = root / extension_key(name, args, kwargs)
            directory.mkdir(parents=True, exist_ok=True)
            kwargs["build_directory"] = str(directory)
        return _original_load_inline(name, *args, **kwargs)

    cpp_extension.load_inline = load_inline
