"""pytest plugin: the `synack_harness` fixture, so a case is just

    def test_handshake(synack_harness):
        fd = synack_harness.listen(8080)
        ...

Enable it with `-p synack.pytest_plugin` on the command line or
`pytest_plugins = ["synack.pytest_plugin"]` in your top conftest.py.

The target is "inproc" unless `--synack-target=linux` (or tap:...) is given, or the test is
marked `@pytest.mark.synack(target="linux", tcp_syncookies=1, ...)` (marker keywords are
Harness() arguments). A target that cannot run here (linux without root, a missing tap)
skips the test with the reason. The harness is closed after the test (a linux namespace is
removed), and any oracle violation left unraised fails the test.
"""
import pytest

import synack


def pytest_addoption(parser):
    group = parser.getgroup("synack")
    group.addoption("--synack-target", default=None,
                    help="target for the synack_harness fixture: inproc (default), linux, "
                         "tap:IFNAME[,agent=ADDR]")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "synack(target=..., **knobs): Harness() arguments for synack_harness")


@pytest.fixture
def synack_harness(request):
    """A synack.Harness for this test (see the module's docstring for how to pick the target)."""
    marker = request.node.get_closest_marker("synack")
    kwargs = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        kwargs.setdefault("target", marker.args[0])
    kwargs.setdefault("target", request.config.getoption("--synack-target") or "inproc")
    try:
        h = synack.Harness(**kwargs)
    except synack.TargetError as e:
        pytest.skip(f"synack target {kwargs['target']!r} cannot run here: {e}")
    with h:
        yield h
        if not h._h.closed:
            h._check_oracle()
