"""Inside a candidate runner: `load_inline` asks the judge for a build instead of compiling.

The candidate's process may not start processes (no compiler, no ninja), and the build cache is read-only
to it.  Its `load_inline(...)` arguments go to the judge as plain data; the judge builds them in a separate
builder process, checks and installs the result under a content-addressed key, and answers with the
directory to load from.
"""

from __future__ import annotations

import inspect
import json
import os

from evaluators.channel import Channel

_NOT_SENT = ("build_directory", "verbose", "keep_intermediates")


def install_build_client(channel: Channel, cache_inside: str) -> None:
    import torch
    import torch.utils.cpp_extension as cpp_extension

    original = cpp_extension.load_inline
    signature = inspect.signature(original)

    def load_inline(name, *args, **kwargs):
        bound = signature.bind(name, *args, **kwargs)
        arguments = {k: v for k, v in bound.arguments.items() if k not in _NOT_SENT and k != "name"}
        try:
            json.dumps(arguments)
        except TypeError as exc:
            raise ValueError(f"load_inline arguments must be plain data (strings, lists, dicts): {exc}") from None
        channel.send({"type": "build", "name": str(name), "arguments": arguments})
        received = channel.receive()
        reply = received[0] if received else {}
        if reply.get("kind") == "forbidden_op":
            from evaluators.forbidden import ForbiddenOpCalled

            raise ForbiddenOpCalled(reply.get("message", "the extension links a forbidden op"))
        if reply.get("type") != "built":
            raise RuntimeError(f"Error building extension '{name}': {reply.get('message', 'no answer from the judge')}")
        directory = os.path.join(cache_inside, reply["directory"])
        if arguments.get("is_python_module", True):
            return cpp_extension._import_module_from_library(name, directory, True)
        path = os.path.join(directory, f"{name}.so")
        torch.ops.load_library(path)
        return path

    def load(name, *args, **kwargs):
        raise RuntimeError(f"Error building extension '{name}': candidates build C++ through load_inline only")

    cpp_extension.load_inline = load_inline
    cpp_extension.load = load
