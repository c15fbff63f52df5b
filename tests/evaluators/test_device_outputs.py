"""The GPU output hand-over's checks that need no GPU: what a runner sends is never trusted as a handle."""

import base64

import pytest

from evaluators.device_outputs import IPC_HANDLE_BYTES, DeviceHandoffUnavailable, ExportedBuffer, MappedBuffer
from evaluators.shared_memory import Layout


@pytest.mark.parametrize("handle, offset, nbytes", [
    ("not base64!", 0, 64),
    (base64.b64encode(b"\1" * (IPC_HANDLE_BYTES - 1)).decode(), 0, 64),
    (base64.b64encode(b"\1" * IPC_HANDLE_BYTES).decode(), -64, 64),
    (base64.b64encode(b"\1" * IPC_HANDLE_BYTES).decode(), 0, -1),
])
def test_a_malformed_handle_is_refused_before_the_driver_sees_it(handle, offset, nbytes):
    exported = ExportedBuffer.from_dict({"handle": handle, "offset": offset, "nbytes": nbytes})
    with pytest.raises(DeviceHandoffUnavailable, match="malformed"):
        MappedBuffer(exported, None, Layout.of([((4, 4), "float32")]))


def test_an_exported_buffer_survives_the_json_channel():
    exported = ExportedBuffer(base64.b64encode(bytes(range(IPC_HANDLE_BYTES))).decode(), 128, 4096)
    assert ExportedBuffer.from_dict(exported.to_dict()) == exported
    assert base64.b64decode(exported.handle) == bytes(range(IPC_HANDLE_BYTES))
