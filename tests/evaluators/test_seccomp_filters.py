"""The runners' seccomp filters are compiled once in the zygote with a placeholder pid; a runner fills in its own
pid and loads the result.  That program must be exactly what compiling for that pid would give."""

import os

import pytest

from evaluators import confinement

pytestmark = pytest.mark.skipif(not confinement.seccomp_available(), reason="needs pyseccomp and libseccomp")


@pytest.mark.parametrize("allow_processes", [False, True])
@pytest.mark.parametrize("allow_process_groups", [False, True])
def test_the_prebuilt_filter_with_a_pid_is_the_filter_compiled_for_it(allow_processes, allow_process_groups):
    template = confinement._compiled(confinement._built(allow_processes, allow_process_groups,
                                                        confinement.PID_PLACEHOLDER))
    for pid in (os.getpid(), 2, 4_194_304):
        fresh = confinement._compiled(confinement._built(allow_processes, allow_process_groups, pid))
        assert confinement.with_pid(template, pid) == fresh


def test_a_prebuilt_filter_loaded_in_a_child_refuses_what_it_should():
    confinement.prebuild_filters()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        outcome = "loaded"
        try:
            confinement._no_new_privileges()
            confinement.install_filter(allow_processes=False)
            try:
                os.kill(1, 0)
                outcome = "signalled another process"
            except PermissionError:
                os.kill(os.getpid(), 0)          # itself: allowed
                try:
                    os.fork()
                    outcome = "forked"
                except PermissionError:
                    outcome = "refused"
        finally:
            os.write(write, outcome.encode())
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "refused"
