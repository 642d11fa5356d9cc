"""Shared pytest fixtures for synack's Python tests.

CTest runs these with SYNACK_BIN and SYNACK_MAKE_SAMPLE pointing at the build under test. Run by
hand (`/usr/bin/python3 -m pytest scripts/`), they use build/default, and skip with the command
to run when that build does not exist yet.
"""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD_HINT = "build it first: cmake --preset default && cmake --build --preset default"


def _load_synack_module() -> str:
    """Puts the synack Python package of the build under test on sys.path and imports it;
    returns "" or why it could not. CTest's pytest_scapy test sets SYNACK_PYTHONPATH (and,
    for the asan preset, preloads ASan); its plain `pytest` test sets SYNACK_BIN only and never
    loads the module (an ASan-built module cannot load without the preload). By hand, the
    module of build/default is used when it is there."""
    path = os.environ.get("SYNACK_PYTHONPATH")
    if path is None:
        if "SYNACK_BIN" in os.environ:
            return "SYNACK_PYTHONPATH is not set (run by CTest's pytest_scapy test)"
        path = str(ROOT / "build/default/python")
    if not (pathlib.Path(path) / "synack").is_dir():
        return f"no synack package in {path}; {BUILD_HINT}"
    sys.path.insert(0, path)
    try:
        import synack  # noqa: F401
    except ImportError as e:
        if os.environ.get("SYNACK_PYTHONPATH"):
            raise  # CTest asked for the module: failing to import it is a failure
        return f"cannot import synack from {path}: {e}"
    return ""


SYNACK_MODULE_MISSING = _load_synack_module()
if not SYNACK_MODULE_MISSING:
    # Gives every test the synack_harness fixture and the --synack-target option.
    pytest_plugins = ["synack.pytest_plugin"]


def _binary(env_var: str, default: pathlib.Path) -> pathlib.Path:
    path = pathlib.Path(os.environ.get(env_var, default))
    if not path.is_file():
        pytest.skip(f"{path} not found ({env_var} unset); {BUILD_HINT}")
    return path


@pytest.fixture(scope="session")
def synack_bin() -> pathlib.Path:
    """The `synack` CLI of the build under test."""
    return _binary("SYNACK_BIN", ROOT / "build/default/synack")


@pytest.fixture(scope="session")
def make_sample(tmp_path_factory) -> "callable":
    """Returns a function writing the sample capture (raw or Ethernet) and returning its path."""
    tool = _binary("SYNACK_MAKE_SAMPLE", ROOT / "build/default/harness/make_sample_pcap")
    out_dir = tmp_path_factory.mktemp("samples")

    def make(*args: str) -> pathlib.Path:
        out = out_dir / ("sample" + "".join(a.strip("-") for a in args) + ".pcap")
        subprocess.run([str(tool), *args, str(out)], check=True, timeout=60)
        return out

    return make


@pytest.fixture(scope="session")
def tshark() -> str:
    """tshark is a declared dependency (scripts/bootstrap.sh): its absence is a failure."""
    path = shutil.which("tshark")
    assert path, "tshark not found: run scripts/bootstrap.sh"
    return path
