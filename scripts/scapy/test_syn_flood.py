"""A SYN flood from spoofed sources (Scapy's RandIP), and SYN cookies letting a real client in
(RFC 4987 3.6): on inproc and, as root, on linux. Without cookies the same client is dropped,
so the case can fail."""
from scapy.layers.inet import IP, TCP
from scapy.volatile import RandIP, RandShort

FLOOD = 300
BACKLOG = 4


def _flood(h, n):
    # Spoofed sources in 198.18.0.0/15 (RFC 2544's benchmarking range): ordinary unicast, so
    # the target answers them (and the answers come back over the harness's link).
    src, sport = RandIP("198.18.0.0/15"), RandShort()
    for i in range(n):
        h.send(IP(src=str(src)) / TCP(sport=int(sport) | 1024, dport=8080, flags="S", seq=i,
                                       window=65535, options=[("MSS", 1460)]))


def _client_gets_in(h, lfd):
    ours = lambda p: p.dst == "192.168.0.2" and p[TCP].dport == 40000  # noqa: E731
    h.send(IP() / TCP(sport=40000, dport=8080, flags="S", seq=7000, window=65535,
                      options=[("MSS", 1460)]))
    syn_ack = h.expect(timeout=1, flags="SA", ack=7001, ignore=lambda p: not ours(p))
    h.send(IP() / TCP(sport=40000, dport=8080, flags="A", seq=7001, ack=syn_ack.seq + 1,
                      window=65535))
    h.drain(0.05)
    # The accept queue may hold real connections already (none here: the flood never ACKs);
    # the client's is the one from 192.168.0.2.
    fd = h.accept(lfd)
    assert h.connection(fd)[2:] == ("192.168.0.2", 40000)
    h.write(fd, b"through the flood")
    data = h.expect(timeout=1, payload=b"through the flood", ignore=lambda p: not ours(p))
    assert data.seq == syn_ack.seq + 1
    return syn_ack


def test_syn_cookies_let_a_real_client_in(target, harness_for):
    h = harness_for(target, tcp_syncookies=1)
    lfd = h.listen(8080, backlog=BACKLOG)
    _flood(h, FLOOD)
    answers = [p for p in h.drain(0.2) if p[TCP].flags == "SA"]
    spoofed = {p.dst for p in answers}
    # Every spoofed SYN got a SYN-ACK: the first ones from the SYN queue, the rest from cookies.
    assert len(spoofed) > FLOOD * 0.9, f"only {len(spoofed)} of {FLOOD} sources answered"
    _client_gets_in(h, lfd)
    assert h.snapshot(lfd)["state"] == "LISTEN"


def test_without_syn_cookies_the_client_is_dropped(target, harness_for):
    h = harness_for(target, tcp_syncookies=0)
    lfd = h.listen(8080, backlog=BACKLOG)
    _flood(h, FLOOD)
    h.drain(0.2)
    h.send(IP() / TCP(sport=40000, dport=8080, flags="S", seq=7000, window=65535,
                      options=[("MSS", 1460)]))
    ours = [p for p in h.drain(0.3) if p.dst == "192.168.0.2"]
    assert ours == [], f"a full SYN queue without cookies answered: {ours[0].summary()}"
