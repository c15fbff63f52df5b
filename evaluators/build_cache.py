"""A build directory per extension source, so candidates that differ only in Python reuse the compiled code.

`load_inline` is wrapped inside the worker: unless the candidate names a build directory itself, the
extension is built under `<cache>/extensions/<hash of name, sources and flags>`.  An unchanged C++ source
then loads in milliseconds even when the surrounding Python (say, a tuned block size) changed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path


def default_root() -> Path:
    """The user's cache (XDG_CACHE_HOME or ~/.cache)/stark/build, shared by `stark eval` and campaigns.  As
    root without bubblewrap the runners (other uids) see host paths, and root's home is closed to them: then
    /var/cache/stark/build."""
    from evaluators.sandbox import bubblewrap_available, unreachable_part

    root = Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "stark" / "build"
    if os.geteuid() == 0 and not bubblewrap_available() and unreachable_part(root):
        return Path("/var/cache/stark/build")
    return root


def extension_key(name: str, args: tuple, kwargs: dict) -> str:
    material = json.dumps({"name": name, "args": [str(a) for a in args],
                           "kwargs": {k: str(v) for k, v in sorted(kwargs.items())}}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def install(cache_root: str | Path) -> None:
    import torch.utils.cpp_extension as cpp_extension

    original = getattr(cpp_extension.load_inline, "stark_original", cpp_extension.load_inline)
    root = Path(cache_root) / "extensions"

    @functools.wraps(original)
    def load_inline(name, *args, **kwargs):
        if kwargs.get("build_directory") is None:
            directory = root / extension_key(name, args, kwargs)
            directory.mkdir(parents=True, exist_ok=True)
            kwargs["build_directory"] = str(directory)
        return original(name, *args, **kwargs)

    load_inline.stark_original = original
    cpp_extension.load_inline = load_inline
