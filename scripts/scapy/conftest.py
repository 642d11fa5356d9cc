"""Fixtures for the Scapy-scripted cases: `target` runs a test on inproc and, as root, on linux."""
import os

import pytest

synack = pytest.importorskip(
    "synack", reason="the synack Python module is not built (cmake --build --preset default)")


@pytest.fixture(params=["inproc", "linux"])
def target(request) -> str:
    """The target name; linux cases skip without root (synack's LinuxTarget makes and removes
    its own namespace synack-<pid>-<n>; nothing else is touched)."""
    if request.param == "linux" and os.geteuid() != 0:
        pytest.skip("the linux target needs root (a network namespace and a tap device)")
    return request.param


@pytest.fixture
def harness_for(request):
    """harness_for(target, **knobs): a synack.Harness closed after the test; a target that
    cannot run here skips the test with synack's reason."""
    made = []

    def make(target: str, **knobs):
        try:
            h = synack.Harness(target, **knobs)
        except synack.TargetError as e:
            pytest.skip(f"target {target} cannot run here: {e}")
        made.append(h)
        return h

    yield make
    for h in made:
        h.close()
