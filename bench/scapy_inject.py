#!/usr/bin/python3
"""Scapy's side of bench/linux_inject.sh: the same stream of in-window data segments that
`bench/linux_inject` sends, sent by Debian's Scapy with a sendp loop on a tap device, into the
Linux kernel's TCP, timed from the first segment to the ACK that covers the last.

Runs inside a network namespace the caller made (ip netns exec NS python3 ...). It creates the
tap itself (Scapy's TunTapInterface), gives the kernel side 192.168.0.1/24, adds a permanent
neighbour entry for the harness's 192.168.0.2, opens a listener, does the handshake with Scapy,
then streams. Prints one line: `scapy: N segments in S s = R segments/s`.
"""
import argparse
import select
import socket
import subprocess
import sys
import time

from scapy.config import conf
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.layers.tuntap import TunTapInterface
from scapy.packet import Raw
from scapy.sendrecv import sendp

TARGET_IP, HARNESS_IP = "192.168.0.1", "192.168.0.2"
HARNESS_MAC = "02:00:00:00:00:02"


def ip(*args):
    subprocess.run(["ip", *args], check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iface", default="synackbench0")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--port", type=int, default=8080)
    a = ap.parse_args()
    conf.verb = 0
    tap = TunTapInterface(a.iface, mode_tun=False)
    with open(f"/proc/sys/net/ipv6/conf/{a.iface}/disable_ipv6", "w") as f:
        f.write("1")
    ip("addr", "add", f"{TARGET_IP}/24", "dev", a.iface)
    ip("link", "set", a.iface, "up")
    ip("neigh", "replace", HARNESS_IP, "lladdr", HARNESS_MAC, "dev", a.iface, "nud", "permanent")
    with open(f"/sys/class/net/{a.iface}/address") as f:
        kernel_mac = f.read().strip()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    listener.bind((TARGET_IP, a.port))
    listener.listen(1)
    eth = Ether(src=HARNESS_MAC, dst=kernel_mac)
    base = IP(src=HARNESS_IP, dst=TARGET_IP)
    sport, isn = 40000, 1000

    def next_tcp(deadline, want):
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([tap], [], [], left)[0]:
                return None
            p = tap.recv()
            if p is not None and TCP in p and p[TCP].dport == sport and want(p[TCP]):
                return p[TCP]
        return None

    tap.send(eth / base / TCP(sport=sport, dport=a.port, flags="S", seq=isn, window=65535,
                              options=[("MSS", 1460)]))
    synack = next_tcp(time.monotonic() + 3, lambda t: t.flags.S and t.flags.A)
    if synack is None:
        sys.exit("scapy: no SYN,ACK from the kernel within 3 s")
    ack = synack.seq + 1
    seq = isn + 1
    tap.send(eth / base / TCP(sport=sport, dport=a.port, flags="A", seq=seq, ack=ack, window=65535))
    conn, _ = listener.accept()
    conn.setblocking(False)
    payload = b"x" * a.size
    segments = [eth / base / TCP(sport=sport, dport=a.port, flags="PA", seq=seq + i * a.size,
                                 ack=ack, window=65535) / Raw(payload) for i in range(a.count)]
    last = seq + a.count * a.size
    acked = [seq]

    def drain_acks(wait):
        # The kernel's ACKs queue on the tap (txqueuelen frames at most, then dropped): read
        # them as they come, as synack's link does, and keep the highest.
        deadline = time.monotonic() + wait
        while acked[0] != last:
            left = max(0.0, deadline - time.monotonic())
            if not select.select([tap], [], [], left)[0]:
                return
            p = tap.recv()
            if p is not None and TCP in p and p[TCP].dport == sport and p[TCP].flags.A:
                if (p[TCP].ack - acked[0]) % (1 << 32) < (1 << 31):
                    acked[0] = p[TCP].ack

    def read_app():
        try:  # the application reads, so the window stays open
            while conn.recv(1 << 20):
                pass
        except BlockingIOError:
            pass

    start = time.monotonic()
    for s in segments:
        sendp(s, socket=tap)
        drain_acks(0)
        read_app()
    while acked[0] != last and time.monotonic() - start < 60:
        read_app()
        drain_acks(0.01)
    elapsed = time.monotonic() - start
    if acked[0] != last:
        sys.exit(f"scapy: the kernel acknowledged {acked[0] - seq} of {last - seq} bytes")
    print(f"scapy: {a.count} segments in {elapsed:.3f} s = {a.count / elapsed:.0f} segments/s")


if __name__ == "__main__":
    main()
