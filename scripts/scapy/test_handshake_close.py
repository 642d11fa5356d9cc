"""A three-way handshake, data both ways and both closes, written in Scapy (RFC 9293 3.5, 3.6),
on inproc and, as root, on linux."""
from scapy.layers.inet import IP, TCP

from tcp_helpers import HARNESS_PORT, TARGET_PORT, passive_open


def test_passive_open_data_and_close_from_the_target(target, harness_for):
    h = harness_for(target)
    _, fd, syn_ack, seq = passive_open(h, isn=5000)
    assert syn_ack[TCP].options and dict(syn_ack[TCP].options).get("MSS")
    assert h.snapshot(fd)["state"] == "ESTABLISHED"
    target_seq = syn_ack.seq + 1

    # Data from the harness is acknowledged and read by the application.
    h.send(IP() / TCP(flags="PA", seq=seq, ack=target_seq, window=65535) / b"hello")
    ack = h.expect(flags="A", ack=seq + 5, timeout=1)
    assert ack.seq == target_seq
    seq += 5
    assert h.read(fd) == b"hello"

    # Data from the application reaches the harness.
    assert h.write(fd, b"world!") == 6
    data = h.expect(seq=target_seq, ack=seq, payload=b"world!",
                    flags=lambda f: "A" in str(f))
    target_seq += 6
    h.send(IP() / TCP(flags="A", seq=seq, ack=target_seq, window=65535))

    # Active close from the target: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT.
    h.shutdown(fd, "SHUT_WR")
    h.expect(flags="FA", seq=target_seq, ack=seq)
    assert h.snapshot(fd)["state"] == "FIN-WAIT-1"
    h.send(IP() / TCP(flags="A", seq=seq, ack=target_seq + 1, window=65535))
    h.send(IP() / TCP(flags="FA", seq=seq, ack=target_seq + 1, window=65535))
    h.expect(flags="A", seq=target_seq + 1, ack=seq + 1)
    assert h.snapshot(fd)["state"] == "TIME-WAIT"
    assert data.time >= 0
    # Everything crossed the link both ways, in order.
    both = h.segments()
    assert [p.direction for p in both[:3]] == ["in", "out", "in"]
    assert all(p[TCP].sport == TARGET_PORT for p in h.segments("out"))


def test_active_open_and_close_from_the_harness(target, harness_for):
    h = harness_for(target)
    fd = h.connect(HARNESS_PORT)
    syn = h.expect(flags="S", dport=HARNESS_PORT, dst="192.168.0.2")
    assert h.snapshot(fd)["state"] == "SYN-SENT"
    h.send(IP() / TCP(sport=HARNESS_PORT, dport=syn.sport, flags="SA", seq=9000,
                      ack=syn.seq + 1, window=65535, options=[("MSS", 1460)]))
    h.expect(flags="A", seq=syn.seq + 1, ack=9001)
    assert h.snapshot(fd)["state"] == "ESTABLISHED"

    # The harness closes first: the target acknowledges the FIN and the application sees EOF.
    h.send(IP() / TCP(sport=HARNESS_PORT, dport=syn.sport, flags="FA", seq=9001,
                      ack=syn.seq + 1, window=65535))
    h.expect(flags="A", ack=9002)
    assert h.read(fd) == b""
    assert h.snapshot(fd)["state"] == "CLOSE-WAIT"
    h.close(fd)
    fin = h.expect(flags="FA", seq=syn.seq + 1, ack=9002)
    h.send(IP() / TCP(sport=HARNESS_PORT, dport=syn.sport, flags="A", seq=9002,
                      ack=fin.seq + 1, window=65535))
    h.expect_none(0.2)
