"""`synack replay`: a session or pair fuzz input becomes a .pkt script (and a pcap) that
`synack run --target inproc` replays to the same segments; and `synack corpus`, which makes the
session seeds from the conformance cases."""
import pathlib
import struct
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
SESSION = ROOT / "corpus" / "session_fuzzer"
PAIR = ROOT / "corpus" / "pair_fuzzer"


def synack(binary, *args, timeout=120, cwd=None):
    return subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def inputs():
    # Seeds from the conformance cases, regression inputs of both fuzzers (each once a finding,
    # now fixed) and fuzzer-found inputs: a spread of what the corpora hold.
    session = sorted(SESSION.iterdir())
    picked = [p for p in session if p.name.startswith("conformance-")][::40]
    picked += [p for p in session if p.name.startswith("regression-")][::6]
    picked += [p for p in session if len(p.name) == 40][::400]
    picked += sorted(PAIR.glob("regression-*"))[::2]
    return picked


@pytest.mark.parametrize("fuzz_input", inputs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_clean_input_replays_to_a_script_that_passes(synack_bin, tmp_path, fuzz_input):
    pkt = tmp_path / "replay.pkt"
    pcap = tmp_path / "replay.pcap"
    r = synack(synack_bin, "replay", fuzz_input, "--pkt", pkt, "--pcap", pcap)
    assert r.returncode == 0, r.stderr
    assert "the input ran clean" in r.stderr
    text = pkt.read_text()
    assert "// The input ran clean: this script passes." in text
    run = synack(synack_bin, "run", "--target", "inproc", pkt)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("PASS "), run.stdout
    # The capture holds the session's packets: as many as the script's packet lines.
    packets = sum(1 for line in text.splitlines() if line.split(" ", 2)[1:2] in (["<"], [">"]))
    decoded = synack(synack_bin, "decode", pcap)
    assert decoded.returncode == 0, decoded.stderr
    assert len(decoded.stdout.splitlines()) == packets


def test_the_replayed_script_checks_what_the_stack_sends(synack_bin, tmp_path):
    """A script that could not fail would prove nothing: change one outbound line's window and
    the replay must fail there."""
    fuzz_input = SESSION / "conformance-handshake-passive-open-three-way-handshake"
    pkt = tmp_path / "replay.pkt"
    assert synack(synack_bin, "replay", fuzz_input, "--pkt", pkt).returncode == 0
    lines = pkt.read_text().splitlines()
    out = next(i for i, l in enumerate(lines) if " > " in f" {l.split(' ', 1)[1]}" and " win " in l)
    words = lines[out].split(" ")
    w = words.index("win")
    words[w + 1] = str(int(words[w + 1]) - 1)
    lines[out] = " ".join(words)
    pkt.write_text("\n".join(lines) + "\n")
    run = synack(synack_bin, "run", "--target", "inproc", pkt)
    assert run.returncode == 1, run.stdout
    assert run.stdout.startswith("FAIL "), run.stdout


def call(op, slot, arg):
    return struct.pack("<BBBI", 2, op, slot, arg)


def test_the_calls_added_to_the_trace_replay_through_the_runner(synack_bin, tmp_path):
    """setsockopt/getsockopt of SO_REUSEADDR, IP_TOS, IP_TTL and SO_ERROR and a second connect()
    (fuzz/session/trace.h, Call::Op 12-14) come out as script lines the runner accepts and
    checks."""
    listen, connect, set_more, get_more, connect_again = 0, 1, 12, 13, 14
    trace = bytes([3, 14, 0, 0])  # timestamps, SACK, no cookies; tcp_retries2 15
    trace += call(listen, 0, 0)
    trace += call(set_more, 0, 0 + 4 * 1)  # SO_REUSEADDR 1
    trace += call(get_more, 0, 0)
    trace += call(set_more, 0, 1 + 4 * 0xb8)  # IP_TOS 0xb8
    trace += call(get_more, 0, 1)
    trace += call(set_more, 0, 2 + 4 * 0)  # IP_TTL -1: the default
    trace += call(set_more, 0, 2 + 4 * 1)  # IP_TTL 0: EINVAL
    trace += call(set_more, 0, 2 + 4 * 18)  # IP_TTL 17
    trace += call(get_more, 0, 2)
    trace += call(set_more, 0, 3)  # SO_ERROR: read-only
    trace += call(connect, 0, 1)
    trace += call(connect_again, 1, 1)  # EALREADY
    trace += call(connect_again, 0, 1)  # on the listener: EISCONN
    fuzz_input = tmp_path / "calls"
    fuzz_input.write_bytes(trace)
    pkt = tmp_path / "calls.pkt"
    r = synack(synack_bin, "replay", "--kind", "session", fuzz_input, "--pkt", pkt)
    assert r.returncode == 0, r.stderr
    text = pkt.read_text()
    for expected in ("setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
                     "getsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], [4]) = 0",
                     "getsockopt(3, IPPROTO_IP, IP_TOS, [184], [4]) = 0",
                     "setsockopt(3, IPPROTO_IP, IP_TTL, [0], 4) = -1 EINVAL",
                     "getsockopt(3, IPPROTO_IP, IP_TTL, [17], [4]) = 0",
                     "setsockopt(3, SOL_SOCKET, SO_ERROR, [0], 4) = -1 ENOPROTOOPT",
                     "16) = -1 EALREADY", "16) = -1 EISCONN"):
        assert expected in text, text
    run = synack(synack_bin, "run", "--target", "inproc", pkt)
    assert run.returncode == 0, run.stdout + run.stderr


def test_usage_errors(synack_bin, tmp_path):
    r = synack(synack_bin, "replay")
    assert r.returncode == 2 and "no INPUT given" in r.stderr
    r = synack(synack_bin, "replay", "--kind", "tap", SESSION / "conformance-handshake-passive-open-three-way-handshake")
    assert r.returncode == 2 and "--kind is session or pair, not 'tap'" in r.stderr
    r = synack(synack_bin, "replay", tmp_path / "missing")
    assert r.returncode == 1 and "cannot read" in r.stderr


def test_corpus_regenerates_the_committed_conformance_seeds(synack_bin, tmp_path):
    """The committed seeds are exactly what `synack corpus` makes from the conformance cases
    today: a change to the trace or the cases that forgets to regenerate them fails here."""
    # Names come from the case paths as given: relative to the checkout, as committed.
    r = synack(synack_bin, "corpus", "--output", tmp_path, "conformance", timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in SESSION.glob("conformance-*"))
    assert made == committed
    stale = [n for n in made if (tmp_path / n).read_bytes() != (SESSION / n).read_bytes()]
    assert not stale, f"regenerate with `synack corpus conformance/`: {stale[:5]}"
