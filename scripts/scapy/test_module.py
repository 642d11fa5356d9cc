"""The synack module's API: errors on bad input, expectations and their diffs, time, socket
errors as OSError, the oracle, run_script, the pytest fixture, installation."""
import errno
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP

import synack
from tcp_helpers import passive_open

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASE = ROOT / "conformance/handshake/active-open-three-way-handshake.pkt"


@pytest.fixture
def h():
    with synack.Harness("inproc") as harness:
        yield harness


# --- bad input: a clear Python exception, never a crash underneath ---------------------------

@pytest.mark.parametrize("pkt, error, words", [
    (IP() / UDP(dport=53), ValueError, "TCP over IPv4 only"),
    (IP() / ICMP(), ValueError, "TCP over IPv4 only"),
    (TCP(flags="S"), ValueError, "TCP segment without IP"),
    (IP() / TCP(seq="not a number"), TypeError, "wrong type"),
    (IP() / TCP(window=70000), TypeError, "wrong type or range"),
    (b"\x45\x00garbage", ValueError, "not a whole IPv4/TCP packet"),
    (b"", ValueError, "not a whole IPv4/TCP packet"),
    (42, TypeError, "Scapy packet (IP()/TCP(...)) or bytes, not int"),
    ("S", TypeError, "not str"),
])
def test_send_rejects_what_is_not_ipv4_tcp(h, pkt, error, words):
    with pytest.raises(error, match=re.escape(words)):
        h.send(pkt)
    assert h.segments() == []  # nothing reached the target


def test_bad_arguments_say_what_was_wrong(h):
    with pytest.raises(ValueError, match="unknown target 'nope'"):
        synack.Harness("nope")
    with pytest.raises(TypeError, match="target must be a str"):
        synack.Harness(5)
    with pytest.raises(ValueError, match="--tcp_bogus=1: the inproc target has no such knob"):
        synack.Harness("inproc", tcp_bogus=1)
    with pytest.raises(ValueError, match="--tcp_syncookies=x: the inproc target has no such"):
        synack.Harness("inproc", tcp_syncookies="x")
    with pytest.raises(TypeError, match="no field 'flagz'"):
        h.expect(flagz="S")
    with pytest.raises(ValueError, match="non-negative number of seconds"):
        h.expect(timeout=-1)
    with pytest.raises(ValueError, match="port must be an int"):
        h.listen(70000)
    with pytest.raises(TypeError, match="fd must be an int"):
        h.read("3")
    with pytest.raises(ValueError, match="SHUT_RD, SHUT_WR or SHUT_RDWR"):
        h.shutdown(3, "SHUT_SIDEWAYS")
    with pytest.raises(ValueError, match="not an IPv4 address"):
        h.connect(80, addr="example")
    with pytest.raises(TypeError, match="SO_LINGER takes"):
        h.setsockopt(3, "SO_LINGER", 1)


def test_socket_errors_are_oserror_with_the_errno(h):
    with pytest.raises(OSError) as e:
        h.read(99)
    assert e.value.errno == errno.EBADF and "read(99" in str(e.value)
    lfd = h.listen(8080)
    with pytest.raises(BlockingIOError):
        h.accept(lfd)
    with pytest.raises(OSError) as e:
        h.listen(8080)  # the port is taken
    assert e.value.errno == errno.EADDRINUSE
    with pytest.raises(OSError) as e:
        h.setsockopt(lfd, "SO_NOSUCH", 1)
    assert e.value.errno in (errno.ENOPROTOOPT, errno.EINVAL)


def test_a_closed_harness_refuses_calls():
    h = synack.Harness("inproc")
    h.close()
    h.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        h.socket()


# --- expectations and time --------------------------------------------------------------------

def test_expect_reports_every_differing_field(h):
    h.listen(8080)
    h.send(IP() / TCP(flags="S", seq=10, window=1000))
    with pytest.raises(synack.ExpectationError) as e:
        h.expect(flags="S", ack=12, window=lambda w: w < 100)
    text = str(e.value)
    assert "flags (expected 'S', actual 'SA')" in text
    assert "ack (expected 12, actual 11)" in text
    assert "window (actual 65535 fails <lambda>)" in text
    assert "192.168.0.1.8080 > 192.168.0.2.40000: Flags [SA]" in text


def test_expect_and_expect_none_in_virtual_time(h):
    with pytest.raises(synack.ExpectationError, match="within 2 s, but the target sent nothing"):
        h.expect(timeout=2)
    assert h.now() == pytest.approx(2.0)
    h.listen(8080)
    h.send(IP() / TCP(flags="S", seq=10, window=1000))
    first = h.expect(flags="SA")
    # The SYN-ACK is retransmitted after the initial RTO (1 s, RFC 6298 2.1).
    with pytest.raises(synack.ExpectationError, match="expected no segment for 5 s"):
        h.expect_none(5)
    again = h.segments("out")[-1]
    assert again.seq == first.seq and again.time - first.time == pytest.approx(1.0)
    h.advance(10)
    assert h.now() == pytest.approx(first.time + 11, abs=0.001)
    # advance() kept what came meanwhile (2 s and 4 s backoff), in order, for expect().
    t1 = h.expect(flags="SA").time
    t2 = h.expect(flags="SA").time
    assert (t1 - first.time, t2 - first.time) == pytest.approx((3.0, 7.0))


def test_snapshot_has_the_rfc_variables(h):
    _, fd, syn_ack, seq = passive_open(h, isn=100)
    s = h.snapshot(fd)
    assert s["state"] == "ESTABLISHED"
    assert (s["snd_una"], s["snd_nxt"], s["rcv_nxt"], s["irs"]) == (
        syn_ack.seq + 1, syn_ack.seq + 1, 101, 100)
    assert s["cwnd"] >= s["snd_mss"] and s["tcpi"]["state"] == 1
    assert h.connection(fd) == ("192.168.0.1", 8080, "192.168.0.2", 40000)


# --- the oracle ---------------------------------------------------------------------------------

def test_an_oracle_violation_raises_with_the_invariant_name(h):
    _, fd, syn_ack, seq = passive_open(h, isn=100)
    # A segment "from the target" whose ACK moves backwards (here fed to the oracle directly:
    # synack's stack does not do that).
    with pytest.raises(synack.OracleViolation) as e:
        h.observe(IP() / TCP(flags="A", seq=syn_ack.seq + 1, ack=50, window=100), "out")
    assert e.value.invariant == "ack-monotonic"
    assert "ack-monotonic" in str(e.value)
    assert [v.invariant for v in h.violations()] == ["ack-monotonic"]


def test_the_oracle_sees_application_bytes(h):
    # stream-integrity: the data the target sends is what its application wrote. A segment
    # "from the target" with other bytes than the write is caught.
    _, fd, syn_ack, seq = passive_open(h, isn=100)
    h.write(fd, b"abc")
    with pytest.raises(synack.OracleViolation) as e:
        h.observe(IP() / TCP(flags="PA", seq=syn_ack.seq + 1, ack=seq, window=100) / b"xyz",
                  "out")
    assert e.value.invariant == "stream-integrity"


# --- run_script --------------------------------------------------------------------------------

def test_run_script_passes_a_conformance_case():
    r = synack.run_script(CASE)
    assert r.passed and r.verdict == "pass" and r.message == "", r.message
    assert r.duration >= 0 and len(r.segments()) >= 3
    assert r.segments()[0].direction in ("in", "out")


def test_run_script_fails_and_errors_like_synack_run(tmp_path):
    broken = tmp_path / "broken.pkt"
    text = CASE.read_text()
    broken.write_text(re.sub(r"> S\. 0:0\(0\) ack 1", "> S. 0:0(0) ack 2", text, count=1)
                      if "> S. 0:0(0) ack 1" in text else text.replace("ack 1", "ack 2", 1))
    r = synack.run_script(broken)
    assert not r.passed and r.verdict == "fail"
    assert "broken.pkt:" in r.message and "differs" in r.message
    bad = tmp_path / "bad.pkt"
    bad.write_text("0 frobnicate(3) = 0\n")
    r = synack.run_script(bad)
    assert r.verdict == "error" and "bad.pkt:1:" in r.message
    with pytest.raises(ValueError, match="unknown target"):
        synack.run_script(CASE, target="nope")


def test_run_script_on_linux():
    if os.geteuid() != 0:
        pytest.skip("the linux target needs root (a network namespace and a tap device)")
    r = synack.run_script(CASE, target="linux")
    assert r.passed, r.message


# --- the pytest fixture, the README example, installation --------------------------------------

def test_the_synack_harness_fixture(synack_harness):
    assert synack_harness.target == "inproc"
    fd = synack_harness.listen(8080)
    assert synack_harness.snapshot(fd)["state"] == "LISTEN"


@pytest.mark.synack(target="inproc", tcp_syncookies=0)
def test_the_fixture_takes_a_marker(synack_harness):
    assert synack_harness.target == "inproc"


def test_the_readme_python_example_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    script = tmp_path / "example.py"
    script.write_text(code)
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(synack.__file__).parent.parent))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=60, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "ESTABLISHED" in out.stdout


def test_cmake_install_puts_an_importable_package(tmp_path):
    build = os.environ.get("SYNACK_BUILD_DIR")
    if not build:
        pytest.skip("SYNACK_BUILD_DIR unset (CTest sets it)")
    cmake = shutil.which("cmake")
    assert cmake, "cmake not found"
    subprocess.run([cmake, "--install", build, "--prefix", str(tmp_path), "--component",
                    "python"], check=True, capture_output=True, timeout=120)
    site = list(tmp_path.glob("lib/python3*/*-packages"))
    assert site, f"nothing installed under {tmp_path}"
    env = dict(os.environ, PYTHONPATH=str(site[0]))
    out = subprocess.run([sys.executable, "-c", "import synack; print(synack.__file__); "
                          "h = synack.Harness(); print(h.listen(8080)); h.close()"],
                         capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(str(site[0]))
