"""One runner as the judge holds it during a judgement: its shared-memory regions and, on a GPU, the device
buffers it exported (evaluators/device_outputs.py) mapped into the judge."""

from __future__ import annotations

import torch

from evaluators.device_outputs import DeviceHandoffUnavailable, ExportedBuffer, MappedBuffer
from evaluators.runner_handle import RunnerHandle
from evaluators.shared_memory import Layout, RegionPool, SharedRegion

CUDA = torch.device("cuda")


def mapped_buffer(reply: dict, key: str, layout: Layout, snapshot: bool) -> MappedBuffer:
    """The buffer a runner's answer names under `key` ("device_outputs", "device_inputs"), mapped here."""
    if key not in reply:
        raise DeviceHandoffUnavailable(str(reply.get(f"{key}_error", "the runner exported no buffer")))
    exported = ExportedBuffer.from_dict(reply[key])
    if exported.nbytes != layout.size:
        raise DeviceHandoffUnavailable(f"the runner's buffer does not match the layout ({key})")
    return MappedBuffer(exported, CUDA, layout, snapshot=snapshot)


class Side:
    """The candidate's, the reference's or the compiled baseline's runner, with what the judge laid out for it."""

    def __init__(self, role: str, runner: RunnerHandle, regions: RegionPool):
        self.role, self.runner, self.regions = role, runner, regions
        self.inputs: SharedRegion | None = None
        self.outputs: SharedRegion | None = None
        self.device: MappedBuffer | None = None
        """On a GPU, the runner's device buffer for its outputs, mapped here (evaluators/device_outputs.py)."""
        self.device_inputs: MappedBuffer | None = None
        """On a GPU, the runner's device buffer for its inputs, which the judge writes while the runner is stopped."""

    def bind(self, inputs: Layout, outputs: Layout | None) -> None:
        self.close()
        self.inputs = self.regions.take(self.role, inputs)
        self.outputs = None if outputs is None else self.regions.take(self.role, outputs)

    @property
    def inputs_kind(self) -> str:
        """What the runner calls its module on: the buffer the judge wrote, or what its own load copied."""
        return "device" if self.device_inputs is not None else "loaded"

    def output_tensors(self) -> list[torch.Tensor]:
        """What the judge compares: its own device copy where outputs came over on the GPU, else shared memory."""
        return self.device.views if self.device is not None else list(self.outputs.tensors)

    def output_bytes(self) -> torch.Tensor:
        return self.device.snapshot if self.device is not None else self.outputs.raw

    def close(self) -> None:
        """Hand the regions back for the next runner of this role."""
        for mapped in (self.device, self.device_inputs):
            if mapped is not None:
                mapped.close()
        self.device = self.device_inputs = None
        for region in (self.inputs, self.outputs):
            if region is not None:
                self.regions.give(self.role, region)
        self.inputs = self.outputs = None
