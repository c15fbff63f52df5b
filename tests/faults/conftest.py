"""A failing fault test must not leave its campaigns running (they would slow every later test)."""

import signal

import pytest

from tests.faults.harness import STARTED, kill_group


@pytest.fixture(autouse=True)
def no_leftover_campaigns():
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            kill_group(process, signal.SIGKILL)
            process.wait()
