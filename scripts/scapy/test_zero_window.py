"""Zero-window probing (RFC 9293 3.8.6.1, MUST-36/37), observed and timed from Python: with the
harness's window shut and data waiting, the target probes on the persist timer, the gaps
between probes never shrink and grow with backoff, and the connection is not dropped while the
probes are answered; once the window opens, the data flows."""
from scapy.layers.inet import IP, TCP

from tcp_helpers import passive_open


def _probe_times(h, seq, snd_una, count):
    """Answers `count` probes with a zero window; returns their times and payload lengths."""
    times, lengths = [], []
    for _ in range(count):
        probe = h.expect(timeout=130)
        assert probe[TCP].seq in (snd_una, snd_una - 1), probe.summary()
        times.append(probe.time)
        lengths.append(len(bytes(probe[TCP].payload)))
        h.send(IP() / TCP(flags="A", seq=seq, ack=snd_una, window=0))
    return times, lengths


def test_zero_window_probes_back_off_and_the_data_flows_when_the_window_opens(harness_for):
    h = harness_for("inproc")
    _, fd, syn_ack, seq = passive_open(h, isn=1000)
    snd_una = syn_ack.seq + 1
    h.setsockopt(fd, "TCP_NODELAY", 1)

    # The harness takes 100 bytes and shuts its window.
    h.write(fd, b"a" * 100)
    h.expect(payload=b"a" * 100, seq=snd_una)
    snd_una += 100
    h.send(IP() / TCP(flags="A", seq=seq, ack=snd_una, window=0))
    h.write(fd, b"b" * 50)
    h.expect_none(0.1)  # nothing is sent into a zero window...
    snap = h.snapshot(fd)
    assert "persist_deadline" in snap and snap["send_queue"] == 50  # ...the persist timer runs

    times, lengths = _probe_times(h, seq, snd_una, 6)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g2 >= g1 * 0.99 for g1, g2 in zip(gaps, gaps[1:])), f"gaps shrank: {gaps}"
    assert gaps[-1] >= 4 * gaps[0], f"no backoff: {gaps}"
    assert times[0] >= 0.1, "the first probe must wait for the persist timer"
    assert set(lengths) <= {0, 1}
    assert h.snapshot(fd)["state"] == "ESTABLISHED"

    # The window opens: the 50 bytes (less a probe byte the harness did not take) go out.
    h.send(IP() / TCP(flags="A", seq=seq, ack=snd_una, window=65535))
    data = h.expect(timeout=1, seq=snd_una)
    assert bytes(data[TCP].payload) == b"b" * 50


def test_zero_window_probes_on_linux(target, harness_for):
    # The same observation on every target: the first gaps only (Linux's persist timer starts
    # at its RTO, 200 ms or more, and doubles).
    h = harness_for(target)
    _, fd, syn_ack, seq = passive_open(h, isn=1000)
    snd_una = syn_ack.seq + 1
    h.setsockopt(fd, "TCP_NODELAY", 1)
    h.write(fd, b"a" * 100)
    h.expect(payload=b"a" * 100, seq=snd_una)
    snd_una += 100
    h.send(IP() / TCP(flags="A", seq=seq, ack=snd_una, window=0))
    h.write(fd, b"b" * 50)
    times, _ = _probe_times(h, seq, snd_una, 3)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[1] >= gaps[0] * 0.9, f"gaps shrank: {gaps}"
