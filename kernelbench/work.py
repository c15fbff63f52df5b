"""What one forward of a problem must do, worked out on PyTorch's meta device (nothing allocated or computed):
the bytes of its inputs, parameters and outputs and the FLOPs `torch.utils.flop_counter` counts (matrix products
and convolutions).  The CPU sizing policy budgets by them; the roofline reads a result against them.

A problem whose kernels need not read all of their inputs (a paged KV pool of which each sequence uses only its
pages) defines `least_input_bytes()`: the fewest input bytes any correct kernel must read for any input set
`get_inputs` can draw, at the current sizes.  Counting the whole pool instead would call a kernel that reads only
what it needs faster than possible."""

from __future__ import annotations

import types
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Work:
    input_bytes: int
    parameter_bytes: int
    output_bytes: int
    flops: int | None
    """None where the forward cannot run on meta (it reads values: `.item()`, CPU constants)."""
    least_read_bytes: int | None = None
    """The problem's `least_input_bytes()`, where it declares one; `input_bytes` stays what `get_inputs` makes (what
    the judge allocates and the CPU sizing budgets)."""

    @property
    def bytes_moved(self) -> int:
        """What any program computing these outputs from these inputs and weights must read and write at least."""
        read = self.input_bytes if self.least_read_bytes is None else self.least_read_bytes
        return read + self.parameter_bytes + self.output_bytes


def problem_work(module: types.ModuleType) -> Work | None:
    """At the module's current sizes; None when even the inputs cannot be made on meta."""
    try:
        return measure_work(module)
    except Exception:  # noqa: BLE001 - the problem's own code: no work figures, the judge goes on
        return None


def measure_work(module: types.ModuleType) -> Work:
    """At the module's current sizes; raises what the problem's constructor or get_inputs raises on meta (the
    sizing policy reads that as "these sizes are refused")."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"), torch.no_grad():
        model = build_on_meta(module, list(module.get_init_inputs()))
        inputs = list(module.get_inputs())
        input_bytes = sum(nbytes(t) for t in inputs)
        least = getattr(module, "least_input_bytes", None)
        least_read = int(least()) if callable(least) else None
        parameters = sum(nbytes(t) for t in [*model.parameters(), *model.buffers()]) \
            if isinstance(model, torch.nn.Module) else 0
        try:
            with FlopCounterMode(display=False) as counter:
                outputs = model(*inputs)
        except Exception:  # noqa: BLE001 - a forward that needs real data
            return Work(input_bytes, parameters, 0, None, least_read)
        return Work(input_bytes, parameters, sum(nbytes(t) for t in tensors(outputs)), int(counter.get_total_flops()),
                    least_read)


def build_on_meta(module: types.ModuleType, init: list):
    """On meta where the constructor allows; a constructor that reads values (`.item()` on a schedule of
    drop-path rates) is built on the CPU and moved."""
    import torch

    try:
        return module.Model(*init)
    except Exception:  # noqa: BLE001
        with torch.device("cpu"):
            model = module.Model(*[_on_cpu(v) for v in init])
        return model.to("meta") if isinstance(model, torch.nn.Module) else model


def _on_cpu(value):
    import torch

    return torch.zeros(value.shape, dtype=value.dtype) if isinstance(value, torch.Tensor) else value


def nbytes(value) -> int:
    import torch

    return value.numel() * value.element_size() if isinstance(value, torch.Tensor) else 0


def tensors(value) -> list:
    import torch

    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors(item)]
    return []
