"""Forbidden ops, enforced where every route to them meets: the aten dispatcher and the linker.

A problem that asks for a hand-written matmul forbids `torch.matmul`; `a @ b`, `torch.mm` under another
name, `torch.ops.aten.mm` and `F.linear` all reach the same aten kernels, so the runner replaces those
kernels with one that raises.  A C++ extension is checked by the judge from the symbols it imports
(`nm -DC`): the same aten ops, and BLAS/MKL/oneDNN entry points.
"""

from __future__ import annotations

import re
import subprocess

ALIASES: dict[str, tuple[str, ...]] = {
    "matmul": ("matmul", "mm", "bmm", "addmm", "addbmm", "baddbmm", "addmv", "mv", "dot", "vdot", "linear",
               "_addmm_activation", "einsum", "tensordot", "inner", "outer", "chain_matmul", "multi_dot"),
    "mm": ("mm", "addmm", "_addmm_activation"),
    "linear": ("linear", "addmm", "mm", "matmul", "_addmm_activation"),
    "conv2d": ("conv2d", "convolution", "_convolution", "mkldnn_convolution", "_slow_conv2d_forward",
               "thnn_conv2d", "cudnn_convolution"),
}
LIBRARY_SYMBOLS = re.compile(r"cblas_|\b[sdcz]gemm|\b[sdcz]gemv|mkl_|dnnl_|openblas|at::_ops::(\w+)::")


class ForbiddenOpCalled(RuntimeError):
    """Raised by the replacement kernel; the runner reports it as the forbidden_op failure kind."""


def aten_names(forbidden: tuple[str, ...]) -> tuple[str, ...]:
    """`torch.nn.functional.relu`, `torch.Tensor.relu`, `aten::relu` → relu, relu_ (plus aliases)."""
    names: list[str] = []
    for entry in forbidden:
        base = re.split(r"\.|::", entry)[-1].rstrip("_")
        for name in ALIASES.get(base, (base,)):
            names += [name, f"{name}_"]
    return tuple(dict.fromkeys(names))


def block_in_dispatcher(forbidden: tuple[str, ...], device_key: str) -> object:
    """Register a raising kernel for every overload of the forbidden aten ops; returns the libraries, which
    must stay alive for the overrides to hold."""
    import warnings

    import torch

    libraries = []
    for name in aten_names(forbidden):
        packet = getattr(torch.ops.aten, name, None)
        if packet is None:
            continue
        for key in (device_key, "CompositeImplicitAutograd"):
            library = torch.library.Library("aten", "IMPL", key)
            for overload in packet.overloads():
                qualified = name if overload == "default" else f"{name}.{overload}"
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        library.impl(qualified, _raiser(qualified))
                except (RuntimeError, ValueError):
                    pass  # no kernel of this op under this key
            libraries.append(library)
    return libraries


def _raiser(qualified: str):
    def forbidden_kernel(*args, **kwargs):
        raise ForbiddenOpCalled(f"the candidate called aten::{qualified}, which this problem forbids")

    return forbidden_kernel


def linked_forbidden(shared_object: str, forbidden: tuple[str, ...]) -> str:
    """The first forbidden library or aten symbol a built extension imports, or ''."""
    if not forbidden:
        return ""
    try:
        listing = subprocess.run(["nm", "-DC", "--undefined-only", shared_object], capture_output=True, text=True,
                                 timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"could not list its symbols ({exc})"
    blocked = set(aten_names(forbidden))
    for line in listing.splitlines():
        for match in LIBRARY_SYMBOLS.finditer(line):
            if match.group(1) is None or match.group(1) in blocked:
                return line.split()[-1] if match.group(1) is None else f"aten::{match.group(1)}"
    return ""


LIBRARY_MODULES = ("numpy", "ctypes", "_ctypes", "cffi", "scipy", "mkl", "cupy", "jax")


def block_library_routes(forbidden: tuple[str, ...], importer_prefix: str = "stark_candidate") -> None:
    """When a problem forbids library compute, the candidate may not reach another library's BLAS either:
    importing numpy/ctypes/cffi/scipy from the candidate's module and handing tensors to numpy are refused.
    (In-process, so a candidate that already holds such a module could still use it; the screen refuses
    the routes to one, and the judge's symbol check covers compiled code.)"""
    if not forbidden:
        return
    import builtins
    import importlib
    import sys

    import torch

    def refuse(*args, **kwargs):
        raise ForbiddenOpCalled("the candidate handed a tensor to numpy, which this problem forbids")

    torch.Tensor.numpy = refuse
    torch.Tensor.__array__ = refuse
    original_import, original_import_module = builtins.__import__, importlib.import_module

    def check(name: str, importer: dict | None) -> None:
        if name.split(".")[0] in LIBRARY_MODULES and str((importer or {}).get("__name__", "")).startswith(importer_prefix):
            raise ForbiddenOpCalled(f"the candidate imported {name}, which this problem forbids (library compute)")

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        check(name, globals)
        return original_import(name, globals, locals, fromlist, level)

    def guarded_import_module(name, package=None):
        check(name, sys._getframe(1).f_globals)
        return original_import_module(name, package)

    builtins.__import__ = guarded_import
    importlib.import_module = guarded_import_module
