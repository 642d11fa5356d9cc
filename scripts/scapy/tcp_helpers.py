"""Small Scapy helpers shared by the cases: a passive open on the target, from the harness."""
from scapy.layers.inet import IP, TCP

HARNESS_PORT = 40000
TARGET_PORT = 8080


def passive_open(h, *, isn=1000, window=65535, options=None, port=TARGET_PORT,
                 sport=HARNESS_PORT):
    """listen() on the target, then the harness's SYN, the SYN-ACK, the ACK and accept().
    Returns (listen fd, connection fd, the SYN-ACK, next harness seq)."""
    lfd = h.listen(port, backlog=4)
    opts = [("MSS", 1460)] if options is None else options
    h.send(IP() / TCP(sport=sport, dport=port, flags="S", seq=isn, window=window, options=opts))
    syn_ack = h.expect(flags="SA", ack=isn + 1, sport=port, dport=sport)
    h.send(IP() / TCP(sport=sport, dport=port, flags="A", seq=isn + 1, ack=syn_ack.seq + 1,
                      window=window))
    fd = h.accept(lfd)
    return lfd, fd, syn_ack, isn + 1
