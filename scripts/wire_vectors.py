#!/usr/bin/python3
"""Emit and check wire test vectors, using Debian's Scapy as an independent oracle.

The line format is specified in docs/wire-vectors.md: one vector per line,
``<name> TAB <hex of the whole packet> TAB <fields>``, where ``<fields>`` is
space-separated ``key=value`` and lines starting with ``#`` are comments.

Sub-commands:

  emit [--seed N] [--random N]
      Print IPv4+TCP vectors: handpicked valid packets, malformed packets
      (``error=CODE``) and N pseudo-random valid packets drawn from
      random.Random(seed). Every packet is built with Scapy and its fields are
      produced by dissecting the bytes with Scapy (see ``canonicalize``).

  check FILE
      Read IPv4+TCP vectors (for instance written by the harness builder),
      dissect each packet with Scapy and compare every field with the line.
      Lines carrying ``error=`` are skipped. Exit status 0 when at least one
      vector was checked and none mismatched, else 1.

  emit-arp
      Print Ethernet+ARP vectors built and dissected by Scapy.

  corpus DIR
      Write the packet of every handpicked, malformed and ARP vector to
      DIR/<name>, one file each: the seeds of corpus/wire_fuzzer.

Only Debian's interpreter (/usr/bin/python3) and python3-scapy are used.
"""

import argparse
import logging
import os
import random
import re
import struct
import sys
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Tuple

# Scapy reports malformed input (bad options, bad offsets) through its loggers.
# The malformed vectors are malformed on purpose, so silence that noise; this
# must be configured before Scapy is imported.
logging.getLogger("scapy").setLevel(logging.ERROR)
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

import scapy  # noqa: E402
from scapy.layers.inet import (  # noqa: E402
    ICMP,
    IP,
    TCP,
    UDP,
    IPOption_NOP,
    IPOption_RR,
    IPOption_Router_Alert,
    TCPOptions,
    in4_chksum,
)
from scapy.layers.l2 import ARP, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import checksum  # noqa: E402

# Keys of a valid IPv4+TCP vector, in the order docs/wire-vectors.md requires.
TCP_FIELD_KEYS = (
    "ihl", "tos", "len", "id", "ipflags", "frag", "ttl", "proto", "ipsum",
    "ipopts", "src", "dst", "sport", "dport", "seq", "ack", "dataofs",
    "reserved", "flags", "win", "urp", "sum", "opts", "optpad", "payload",
    "ipsum_ok", "tcpsum_ok",
)

# Keys of an Ethernet+ARP vector, in documented order.
ARP_FIELD_KEYS = (
    "eth_dst", "eth_src", "ethertype", "htype", "ptype", "hlen", "plen",
    "op", "sha", "spa", "tha", "tpa",
)

ERROR_CODES = (
    "truncated", "bad_version", "bad_ihl", "bad_total_length", "not_tcp",
    "fragmented", "bad_data_offset", "option_overrun", "option_length",
)

IPV4_HEADER_LEN = 20
TCP_HEADER_LEN = 20
MAX_OPTION_SPACE = 40
IPPROTO_TCP = 6

# TCP flag bits as Scapy numbers them (Scapy's 9-bit flags field; NS = 0x100).
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR, NS = (1 << bit for bit in range(9))

# IPv4 flag bits as Scapy numbers them.
IP_MF, IP_DF, IP_RESERVED = 1, 2, 4

# TCP option kinds and the Scapy option names the wire format describes.
KIND_EOL, KIND_NOP, KIND_MSS, KIND_WS, KIND_SACKOK, KIND_SACK, KIND_TS = (
    0, 1, 2, 3, 4, 5, 8)
CORE_OPTION_NAMES = ("EOL", "NOP", "MSS", "WScale", "SAckOK", "SAck",
                     "Timestamp")

# Kinds Scapy dissects as plain (kind, bytes) options, i.e. that it does not
# know by name: the only "unknown" kinds the generator may use.
UNKNOWN_OPTION_KINDS = tuple(k for k in range(256) if k not in TCPOptions[0])

# Placeholder shown by ``check`` for a key one side does not have.
MISSING = "<missing>"

HEX_RE = re.compile(r"(?:[0-9a-fA-F]{2})*")

DEFAULT_IP = {"src": "192.0.2.1", "dst": "198.51.100.2", "id": 54321,
              "ttl": 64, "flags": IP_DF, "tos": 0}
DEFAULT_TCP = {"sport": 40312, "dport": 443, "seq": 1000000, "ack": 0,
               "flags": ACK, "window": 64240, "urgptr": 0}


class Vector(NamedTuple):
    """One vector to emit.

    ``expect`` holds field values the dissection must show (for a malformed
    vector, ``{"error": CODE}``); emitting fails loudly when it does not, so
    every vector provably exercises what its name claims.
    """

    name: str
    packet: bytes
    expect: Dict[str, str]


# ---------------------------------------------------------------------------
# Canonicalization: Scapy's dissection -> the documented fields
# ---------------------------------------------------------------------------

def hex_or_dash(data: bytes) -> str:
    """Return ``data`` as lowercase hex, or ``-`` when it is empty."""
    return data.hex() if data else "-"


def option_kind_and_data(name, value) -> Tuple[int, bytes]:
    """Return the kind and the data bytes of one option in Scapy's form.

    ``name``/``value`` is an entry of a Scapy TCP options list (other than EOL
    and NOP): a core name with a decoded value, a core name with the raw data
    (Scapy keeps the bytes when the length is wrong), or an integer kind with
    raw data. Decoded values are re-packed with Scapy's own format table.
    Raises ValueError for an option name the wire format does not describe.
    """
    if isinstance(name, int):
        return name, bytes(value)
    if name not in CORE_OPTION_NAMES or name in ("EOL", "NOP"):
        raise ValueError("Scapy decoded TCP option %r, which the wire format "
                         "does not describe" % (name,))
    kind = TCPOptions[1][name]
    if isinstance(value, bytes):
        return kind, value
    values = value if isinstance(value, tuple) else (value,)
    fmt = TCPOptions[0][kind][1]
    if kind == KIND_SACK:
        fmt += "%dI" % len(values)
    return kind, struct.pack(fmt, *values)


def option_wire_length(name, value) -> int:
    """Return how many bytes one Scapy option entry occupies on the wire."""
    if name in ("EOL", "NOP"):
        return 1
    return 2 + len(option_kind_and_data(name, value)[1])


def format_option(kind: int, value, data: bytes) -> str:
    """Format one option (not EOL/NOP) as the wire format's option token.

    A known kind is decoded (from Scapy's value) only when its length is the
    right one; anything else is ``raw=KIND/HEX``.
    """
    if kind == KIND_MSS and len(data) == 2 and isinstance(value, int):
        return "mss=%d" % value
    if kind == KIND_WS and len(data) == 1 and isinstance(value, int):
        return "ws=%d" % value
    if kind == KIND_SACKOK and not data:
        return "sackok"
    if kind == KIND_SACK and len(data) % 8 == 0 and isinstance(value, tuple):
        blocks = ["%d-%d" % (value[i], value[i + 1])
                  for i in range(0, len(value), 2)]
        return "sack=" + "/".join(blocks)
    if kind == KIND_TS and len(data) == 8 and isinstance(value, tuple):
        return "ts=%d/%d" % value
    return "raw=%d/%s" % (kind, data.hex())


def render_options(options, option_space: bytes) -> Tuple[List[str], int]:
    """Render Scapy's dissected options list; return (tokens, bytes used).

    Each option's bytes are cross-checked against ``option_space`` so that a
    disagreement between Scapy's value and the wire is an error, not a silent
    mis-rendering.
    """
    tokens: List[str] = []
    used = 0
    for name, value in options:
        if name == "EOL":
            tokens.append("eol")
            used += 1
            break
        if name == "NOP":
            tokens.append("nop")
            used += 1
            continue
        kind, data = option_kind_and_data(name, value)
        wire = bytes((kind, 2 + len(data))) + data
        if option_space[used:used + len(wire)] != wire:
            raise ValueError("Scapy's option %r does not match the bytes at "
                             "offset %d of the option space" % (name, used))
        tokens.append(format_option(kind, value, data))
        used += len(wire)
    return tokens, used


def option_walk_error(option_space: bytes) -> Optional[str]:
    """Walk the TCP option space as the harness does; return an error or None.

    A length byte of 0 or 1 is ``option_length``; an option running past the
    option space, or a kind other than EOL/NOP in the last byte (no room for
    a length byte), is ``option_overrun``. Bytes after EOL are not examined.
    """
    offset = 0
    while offset < len(option_space):
        kind = option_space[offset]
        if kind == KIND_EOL:
            return None
        if kind == KIND_NOP:
            offset += 1
            continue
        if offset + 1 >= len(option_space):
            return "option_overrun"
        length = option_space[offset + 1]
        if length < 2:
            return "option_length"
        if offset + length > len(option_space):
            return "option_overrun"
        offset += length
    return None


def canonicalize(raw: bytes) -> Dict[str, str]:
    """Dissect an IPv4+TCP packet with Scapy and return its documented fields.

    Returns ``{"error": CODE}`` when the harness must reject the packet (the
    checks run in the harness's order, so the first failing one wins),
    otherwise every key of TCP_FIELD_KEYS, in order, with string values.
    Header values come from Scapy's dissection; ipopts, optpad and payload are
    slices of ``raw`` by the lengths Scapy reports; the checksums are verified
    with scapy.utils.checksum and scapy.layers.inet.in4_chksum. Bytes beyond
    the IPv4 total length are ignored.
    """
    if len(raw) < IPV4_HEADER_LEN:
        return {"error": "truncated"}
    ip = IP(raw)
    header_len = ip.ihl * 4
    if ip.version != 4:
        return {"error": "bad_version"}
    if ip.ihl < 5:
        return {"error": "bad_ihl"}
    if len(raw) < header_len:
        return {"error": "truncated"}
    if ip.len < header_len:
        return {"error": "bad_total_length"}
    if ip.len > len(raw):
        return {"error": "truncated"}
    if ip.proto != IPPROTO_TCP:
        return {"error": "not_tcp"}
    if int(ip.flags) & IP_MF or ip.frag != 0:
        return {"error": "fragmented"}
    segment = raw[header_len:ip.len]
    if len(segment) < TCP_HEADER_LEN:
        return {"error": "truncated"}
    tcp = ip.getlayer(TCP)
    if tcp is None:
        raise ValueError("Scapy did not dissect a TCP layer")
    tcp_header_len = tcp.dataofs * 4
    if tcp.dataofs < 5 or tcp_header_len > len(segment):
        return {"error": "bad_data_offset"}
    option_space = segment[TCP_HEADER_LEN:tcp_header_len]
    error = option_walk_error(option_space)
    if error is not None:
        return {"error": error}

    tokens, used = render_options(tcp.options, option_space)
    tcp_flags = int(tcp.flags)
    fields = {
        "ihl": ip.ihl,
        "tos": ip.tos,
        "len": ip.len,
        "id": ip.id,
        "ipflags": int(ip.flags),
        "frag": ip.frag,
        "ttl": ip.ttl,
        "proto": ip.proto,
        "ipsum": "0x%04x" % ip.chksum,
        "ipopts": hex_or_dash(raw[IPV4_HEADER_LEN:header_len]),
        "src": ip.src,
        "dst": ip.dst,
        "sport": tcp.sport,
        "dport": tcp.dport,
        "seq": tcp.seq,
        "ack": tcp.ack,
        "dataofs": tcp.dataofs,
        "reserved": (tcp.reserved << 1) | (tcp_flags >> 8),
        "flags": tcp_flags & 0xff,
        "win": tcp.window,
        "urp": tcp.urgptr,
        "sum": "0x%04x" % tcp.chksum,
        "opts": ",".join(tokens) or "-",
        "optpad": hex_or_dash(option_space[used:]),
        "payload": hex_or_dash(segment[tcp_header_len:]),
        "ipsum_ok": int(checksum(raw[:header_len]) == 0),
        # Called last: with a source-route IP option Scapy's pseudo-header
        # uses (and stores into ip.dst) the final destination, per RFC 9293.
        "tcpsum_ok": int(in4_chksum(IPPROTO_TCP, ip, segment) == 0),
    }
    return {key: str(fields[key]) for key in TCP_FIELD_KEYS}


def canonicalize_arp(raw: bytes) -> Dict[str, str]:
    """Dissect an Ethernet+ARP frame with Scapy and return its documented fields."""
    frame = Ether(raw)
    arp = frame.getlayer(ARP)
    if arp is None:
        raise ValueError("Scapy did not dissect an ARP layer")
    fields = {
        "eth_dst": frame.dst.lower(),
        "eth_src": frame.src.lower(),
        "ethertype": "0x%04x" % frame.type,
        "htype": arp.hwtype,
        "ptype": "0x%04x" % arp.ptype,
        "hlen": arp.hwlen,
        "plen": arp.plen,
        "op": arp.op,
        "sha": arp.hwsrc.lower(),
        "spa": arp.psrc,
        "tha": arp.hwdst.lower(),
        "tpa": arp.pdst,
    }
    return {key: str(fields[key]) for key in ARP_FIELD_KEYS}


def format_fields(fields: Dict[str, str]) -> str:
    """Join fields as the space-separated ``key=value`` column."""
    return " ".join("%s=%s" % item for item in fields.items())


# ---------------------------------------------------------------------------
# Building packets with Scapy
# ---------------------------------------------------------------------------

def encode_options(options) -> bytes:
    """Serialize a Scapy options list with Scapy, without its zero padding."""
    encoded = TCP().get_field("options").i2m(None, options)
    return encoded[:sum(option_wire_length(n, v) for n, v in options)]


def build_tcp(ip: Optional[dict] = None, tcp: Optional[dict] = None,
              payload: bytes = b"", option_bytes: Optional[bytes] = None,
              ip_options=None, trailer: bytes = b"") -> bytes:
    """Build an IPv4+TCP packet with Scapy and return its bytes.

    ``ip`` and ``tcp`` override Scapy field values of DEFAULT_IP/DEFAULT_TCP
    (``tcp["options"]`` is a Scapy options list). ``option_bytes`` (a
    multiple of 4 long) places arbitrary bytes in the TCP option space: they
    travel as the start of the Raw load behind a header whose data offset
    covers them, so Scapy still computes lengths and checksums. ``trailer``
    is appended after the IP datagram (like Ethernet padding).
    """
    ip_fields = dict(DEFAULT_IP, **(ip or {}))
    tcp_fields = dict(DEFAULT_TCP, **(tcp or {}))
    if ip_options is not None:
        ip_fields["options"] = ip_options
    load = payload
    if option_bytes is not None:
        if len(option_bytes) % 4 or len(option_bytes) > MAX_OPTION_SPACE:
            raise ValueError("option bytes must be a multiple of 4, at most "
                             "%d long" % MAX_OPTION_SPACE)
        tcp_fields.update(dataofs=5 + len(option_bytes) // 4, options=[])
        load = option_bytes + payload
    packet = IP(**ip_fields) / TCP(**tcp_fields)
    if load:
        packet = packet / Raw(load=load)
    return bytes(packet) + trailer


def correct_checksums(raw: bytes) -> Tuple[int, int]:
    """Return (IP checksum, TCP checksum) Scapy computes for a well-formed packet."""
    ip = IP(raw)
    header_len = ip.ihl * 4
    header = raw[:10] + b"\0\0" + raw[12:header_len]
    segment = raw[header_len:ip.len]
    segment = segment[:16] + b"\0\0" + segment[18:]
    return checksum(header), in4_chksum(IPPROTO_TCP, ip, segment)


def with_checksums(ip_xor: int = 0, tcp_xor: int = 0, **build_args) -> bytes:
    """Build a packet, then rebuild it with deliberately wrong checksums.

    A non-zero ``ip_xor``/``tcp_xor`` is XORed into the correct checksum and
    set explicitly on the Scapy layer. It must not be 0xffff, which would turn
    a correct 0x0000 into the equivalent 0xffff.
    """
    if 0xffff in (ip_xor, tcp_xor):
        raise ValueError("0xffff may yield an equivalent checksum")
    ip_sum, tcp_sum = correct_checksums(build_tcp(**build_args))
    ip = dict(build_args.pop("ip", None) or {})
    tcp = dict(build_args.pop("tcp", None) or {})
    if ip_xor:
        ip["chksum"] = ip_sum ^ ip_xor
    if tcp_xor:
        tcp["chksum"] = tcp_sum ^ tcp_xor
    return build_tcp(ip=ip, tcp=tcp, **build_args)


# ---------------------------------------------------------------------------
# IPv4+TCP vectors
# ---------------------------------------------------------------------------

def valid(name: str, packet: bytes, **expect) -> Vector:
    """Make a valid vector; both checksums must verify unless ``expect`` says."""
    expected = {"ipsum_ok": "1", "tcpsum_ok": "1"}
    expected.update((key, str(value)) for key, value in expect.items())
    return Vector(name, packet, expected)


def malformed(name: str, code: str, packet: bytes) -> Vector:
    """Make a vector the harness must reject with ``code``."""
    if code not in ERROR_CODES:
        raise ValueError("unknown error code %r" % code)
    return Vector(name, packet, {"error": code})


def handshake_vectors() -> Iterator[Vector]:
    """Yield SYN/SYN-ACK/ACK/data/teardown segments as stacks send them."""
    yield valid("syn-linux-options", build_tcp(tcp={
        "flags": SYN, "seq": 3792621374, "window": 64240,
        "options": [("MSS", 1460), ("SAckOK", b""),
                    ("Timestamp", (2216829151, 0)), ("NOP", None),
                    ("WScale", 7)]}),
        dataofs=10, opts="mss=1460,sackok,ts=2216829151/0,nop,ws=7",
        optpad="-")
    yield valid("synack-linux-options", build_tcp(tcp={
        "flags": SYN | ACK, "seq": 1192046410, "ack": 3792621375,
        "window": 65160,
        "options": [("MSS", 1400), ("SAckOK", b""),
                    ("Timestamp", (1002003004, 2216829151)), ("NOP", None),
                    ("WScale", 10)]}),
        opts="mss=1400,sackok,ts=1002003004/2216829151,nop,ws=10")
    yield valid("synack-no-timestamps", build_tcp(tcp={
        "flags": SYN | ACK, "ack": 1,
        "options": [("MSS", 1460), ("NOP", None), ("NOP", None),
                    ("SAckOK", b""), ("NOP", None), ("WScale", 8)]}),
        dataofs=8, opts="mss=1460,nop,nop,sackok,nop,ws=8", optpad="-")
    yield valid("ack-bare", build_tcp(tcp={"ack": 2000000}),
                dataofs=5, opts="-", optpad="-", payload="-")
    yield valid("ack-timestamps", build_tcp(tcp={
        "options": [("NOP", None), ("NOP", None),
                    ("Timestamp", (4294967295, 1))]}),
        opts="nop,nop,ts=4294967295/1")
    for size in (1, 3, 1459):
        payload = bytes((i * 7 + 1) & 0xff for i in range(size))
        yield valid("data-%d-byte-payload" % size,
                    build_tcp(tcp={"flags": PSH | ACK}, payload=payload),
                    payload=payload.hex(), len=40 + size)
    yield valid("fin-psh-ack", build_tcp(tcp={"flags": FIN | PSH | ACK},
                                         payload=b"bye\n"),
                flags=FIN | PSH | ACK)
    yield valid("rst", build_tcp(tcp={"flags": RST, "ack": 0, "window": 0}),
                flags=RST)
    yield valid("rst-ack", build_tcp(tcp={"flags": RST | ACK, "ack": 77}),
                flags=RST | ACK)


def flag_vectors() -> Iterator[Vector]:
    """Yield segments exercising every TCP flag and reserved bit."""
    yield valid("urg-urgent-pointer", build_tcp(
        tcp={"flags": URG | PSH | ACK, "urgptr": 3}, payload=b"abc!"),
        flags=URG | PSH | ACK, urp=3)
    yield valid("urg-urgent-pointer-max", build_tcp(
        tcp={"flags": URG | ACK, "urgptr": 65535}, payload=b"x"),
        urp=65535)
    yield valid("syn-ece-cwr", build_tcp(tcp={"flags": SYN | ECE | CWR}),
                flags=SYN | ECE | CWR)
    yield valid("ack-ece-cwr", build_tcp(tcp={"flags": ACK | ECE | CWR}),
                flags=ACK | ECE | CWR)
    yield valid("flags-all-eight", build_tcp(tcp={"flags": 0xff}),
                flags=255, reserved=0)
    yield valid("flags-none", build_tcp(tcp={"flags": 0}), flags=0)
    yield valid("ns-bit", build_tcp(tcp={"flags": NS | ACK}),
                reserved=1, flags=ACK)
    yield valid("tcp-reserved-high-bit", build_tcp(tcp={"reserved": 4}),
                reserved=8, flags=ACK)
    yield valid("tcp-reserved-all-and-all-flags",
                build_tcp(tcp={"reserved": 7, "flags": 0x1ff}),
                reserved=15, flags=255)


def option_vectors() -> Iterator[Vector]:
    """Yield segments with SACK blocks, EOL padding and full option spaces."""
    blocks = (1000, 2000, 3000, 4000, 4294967040, 4294967295, 0, 1)
    for count in range(1, 5):
        sack = blocks[:2 * count]
        yield valid("sack-%d-block%s" % (count, "s" if count > 1 else ""),
                    build_tcp(tcp={"options": [("NOP", None), ("NOP", None),
                                               ("SAck", sack)]}),
                    opts="nop,nop,sack=" + "/".join(
                        "%d-%d" % sack[i:i + 2] for i in range(0, len(sack), 2)))
    yield valid("sack-0-blocks", build_tcp(tcp={"options": [("SAck", ())]}),
                opts="sack=,eol", optpad="00")
    yield valid("sack-3-blocks-timestamps-40-bytes", build_tcp(tcp={
        "options": [("NOP", None), ("NOP", None), ("Timestamp", (5, 6)),
                    ("NOP", None), ("NOP", None), ("SAck", blocks[:6])]}),
        dataofs=15, optpad="-")
    yield valid("option-unknown-254-fills-40-bytes", build_tcp(
        option_bytes=bytes((254, 40)) + bytes(range(1, 39))),
        dataofs=15, opts="raw=254/" + bytes(range(1, 39)).hex(), optpad="-")
    mss = encode_options([("MSS", 1460)])
    yield valid("eol-then-junk", build_tcp(
        option_bytes=mss + b"\x00\xde\xad\xbe", payload=b"data"),
        opts="mss=1460,eol", optpad="deadbe", payload=b"data".hex())
    yield valid("eol-first-then-junk", build_tcp(
        option_bytes=b"\x00\xff\xff\xff\x01\x02\x03\x04"),
        opts="eol", optpad="ffffff01020304")
    yield valid("eol-then-malformed-option-bytes", build_tcp(
        option_bytes=mss + b"\x00\x02\x00\x01"),
        opts="mss=1460,eol", optpad="020001")
    yield valid("options-fill-exactly-no-eol", build_tcp(tcp={
        "options": [("MSS", 536), ("NOP", None), ("WScale", 14)]}),
        dataofs=7, opts="mss=536,nop,ws=14", optpad="-")
    yield valid("options-four-nops", build_tcp(tcp={"options": [("NOP", None)] * 4}),
                opts="nop,nop,nop,nop", optpad="-")


def odd_option_vectors() -> Iterator[Vector]:
    """Yield known kinds with wrong lengths and unknown kinds (all ``raw``)."""
    wrong_lengths = (
        ("mss-len3", KIND_MSS, b"\x05"),
        ("mss-len6", KIND_MSS, b"\x05\xb4\x00\x00"),
        ("ws-len2", KIND_WS, b""),
        ("ws-len4", KIND_WS, b"\x07\x00"),
        ("sackok-len3", KIND_SACKOK, b"\x00"),
        ("sack-len6", KIND_SACK, b"\x00\x00\x03\xe8"),
        ("sack-len12", KIND_SACK, bytes(range(10, 20))),
        ("ts-len8", KIND_TS, bytes(range(1, 7))),
        ("ts-len12", KIND_TS, bytes(range(1, 11))),
    )
    unknown = (
        ("unknown-kind6-len2", 6, b""),
        ("unknown-kind7-len3", 7, b"\xab"),
        ("unknown-kind30-len5", 30, b"\x01\x02\x03"),
        ("unknown-kind99-len7", 99, b"\x00\x11\x22\x33\x44"),
        ("unknown-kind200-len4", 200, b"\xc8\x00"),
        ("unknown-kind253-len6", 253, b"\xf9\x89\x00\x01"),
        ("unknown-kind255-len3", 255, b"\xff"),
    )
    for name, kind, data in wrong_lengths + unknown:
        token = "raw=%d/%s" % (kind, data.hex())
        yield valid("option-" + name, build_tcp(tcp={
            "options": [("NOP", None), (kind, data)]}),
            opts="nop," + token + (",eol" if (3 + len(data)) % 4 else ""))
    yield valid("option-unknown-kinds-mixed", build_tcp(tcp={
        "options": [(254, b"\xf9\x89"), ("MSS", 1460), (6, b"\x00\x00\x00\x2a"),
                    ("WScale", 0)]}),
        opts="raw=254/f989,mss=1460,raw=6/0000002a,ws=0,eol")


def ip_header_vectors() -> Iterator[Vector]:
    """Yield IPv4 header variations: options, flags, TTL, TOS, addresses."""
    yield valid("ip-options-router-alert",
                build_tcp(ip_options=[IPOption_Router_Alert()]),
                ihl=6, ipopts="94040000")
    yield valid("ip-options-nop-router-alert",
                build_tcp(ip_options=[IPOption_NOP(), IPOption_Router_Alert()]),
                ihl=7, ipopts="0194040000000000")
    routers = ["10.0.0.%d" % i for i in range(1, 10)]
    yield valid("ip-options-40-bytes-record-route",
                build_tcp(ip_options=[IPOption_RR(routers=routers)],
                          payload=b"hi"),
                ihl=15)
    yield valid("ip-and-tcp-options-maximal", build_tcp(
        ip_options=[IPOption_RR(routers=routers)],
        option_bytes=bytes((99, 40)) + bytes(38)),
        ihl=15, dataofs=15)
    for name, flags in (("none", 0), ("df", IP_DF), ("reserved", IP_RESERVED),
                        ("reserved-df", IP_RESERVED | IP_DF)):
        yield valid("ip-flags-" + name, build_tcp(ip={"flags": flags}),
                    ipflags=flags, frag=0)
    for ttl in (0, 255):
        yield valid("ttl-%d" % ttl, build_tcp(ip={"ttl": ttl}), ttl=ttl)
    for name, tos in (("dscp-ef", 0xb8), ("ecn-ce", 0x03), ("all-ones", 0xff)):
        yield valid("tos-" + name, build_tcp(ip={"tos": tos}), tos=tos)
    yield valid("ip-id-zero", build_tcp(ip={"id": 0}), id=0)
    yield valid("ip-id-max", build_tcp(ip={"id": 65535}), id=65535)
    yield valid("addresses-zero-and-broadcast", build_tcp(
        ip={"src": "0.0.0.0", "dst": "255.255.255.255"}),
        src="0.0.0.0", dst="255.255.255.255")


def number_vectors() -> Iterator[Vector]:
    """Yield TCP sequence numbers, windows and ports at their edges."""
    for value in (0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1):
        yield valid("seq-ack-%d" % value,
                    build_tcp(tcp={"seq": value, "ack": value}),
                    seq=value, ack=value)
    for window in (0, 65535):
        yield valid("win-%d" % window, build_tcp(tcp={"window": window}),
                    win=window)
    yield valid("ports-zero", build_tcp(tcp={"sport": 0, "dport": 0}),
                sport=0, dport=0)
    yield valid("ports-max", build_tcp(tcp={"sport": 65535, "dport": 65535}),
                sport=65535, dport=65535)


def checksum_vectors() -> Iterator[Vector]:
    """Yield wrong checksums and correct checksums of 0x0000."""
    args = {"tcp": {"flags": PSH | ACK}, "payload": b"checksum"}
    yield valid("bad-ip-checksum", with_checksums(ip_xor=0x1234, **args),
                ipsum_ok=0)
    yield valid("bad-tcp-checksum", with_checksums(tcp_xor=0x0001, **args),
                tcpsum_ok=0)
    yield valid("bad-both-checksums",
                with_checksums(ip_xor=0x8000, tcp_xor=0x00ff, **args),
                ipsum_ok=0, tcpsum_ok=0)
    yield valid("zero-checksums-wrong",
                build_tcp(ip={"chksum": 0}, tcp={"chksum": 0}),
                ipsum="0x0000", sum="0x0000", ipsum_ok=0, tcpsum_ok=0)

    # A 16-bit header word W adds to the one's-complement sum, so with W = 0
    # giving checksum C, setting W = C makes the sum 0xffff: checksum 0x0000.
    # (A field of 0xffff, negative zero, would verify too, but is not emitted:
    # a consumer rebuilding a valid packet from its fields writes 0x0000.)
    ip_sum = correct_checksums(build_tcp(ip={"id": 0}))[0]
    yield valid("ip-checksum-0000-valid", build_tcp(ip={"id": ip_sum}),
                ipsum="0x0000")
    tcp_sum = correct_checksums(build_tcp(tcp={"window": 0}))[1]
    yield valid("tcp-checksum-0000-valid", build_tcp(tcp={"window": tcp_sum}),
                sum="0x0000")


def trailer_vectors() -> Iterator[Vector]:
    """Yield datagrams followed by bytes beyond the IPv4 total length."""
    yield valid("ack-ethernet-padding", build_tcp(trailer=bytes(6)),
                len=40, payload="-")
    yield valid("data-trailing-junk", build_tcp(
        tcp={"flags": PSH | ACK}, payload=b"\x01\x02\x03",
        trailer=b"\xde\xad\xbe\xef\xff"),
        len=43, payload="010203")


def valid_vectors() -> List[Vector]:
    """Return all handpicked valid IPv4+TCP vectors."""
    groups = (handshake_vectors, flag_vectors, option_vectors,
              odd_option_vectors, ip_header_vectors, number_vectors,
              checksum_vectors, trailer_vectors)
    return [vector for group in groups for vector in group()]


def with_options(option_bytes: bytes) -> bytes:
    """Build a SYN whose TCP option space holds exactly ``option_bytes``."""
    return build_tcp(tcp={"flags": SYN}, option_bytes=option_bytes)


def malformed_vectors() -> List[Vector]:
    """Return packets the harness must reject, each tripping one check."""
    good = build_tcp()
    ip_only = {**DEFAULT_IP, "proto": IPPROTO_TCP}
    tcp = TCP(**DEFAULT_TCP)
    return [
        malformed("truncated-empty", "truncated", b""),
        malformed("truncated-19-bytes", "truncated", good[:19]),
        malformed("truncated-ihl15-short-buffer", "truncated",
                  bytes(IP(ihl=15, **DEFAULT_IP) / tcp)),
        malformed("truncated-ihl6-header-only", "truncated",
                  bytes(IP(ihl=6, **ip_only))),
        malformed("truncated-total-length-beyond-buffer", "truncated",
                  bytes(IP(len=41, **DEFAULT_IP) / tcp)),
        malformed("truncated-total-length-65535", "truncated",
                  bytes(IP(len=65535, **DEFAULT_IP) / tcp)),
        malformed("truncated-tcp-10-bytes", "truncated",
                  bytes(IP(**ip_only) / Raw(load=bytes(tcp)[:10]))),
        malformed("truncated-tcp-missing", "truncated", bytes(IP(**ip_only))),
        malformed("truncated-tcp-cut-by-total-length", "truncated",
                  bytes(IP(len=39, **DEFAULT_IP) / tcp)),
        malformed("bad-version-6", "bad_version",
                  bytes(IP(version=6, **DEFAULT_IP) / tcp)),
        malformed("bad-version-0", "bad_version",
                  bytes(IP(version=0, **DEFAULT_IP) / tcp)),
        malformed("bad-version-5-short-ihl", "bad_version",
                  bytes(IP(version=5, ihl=0, **DEFAULT_IP) / tcp)),
        malformed("bad-ihl-4", "bad_ihl", bytes(IP(ihl=4, **DEFAULT_IP) / tcp)),
        malformed("bad-ihl-0", "bad_ihl", bytes(IP(ihl=0, **DEFAULT_IP) / tcp)),
        malformed("bad-total-length-19", "bad_total_length",
                  bytes(IP(len=19, **DEFAULT_IP) / tcp)),
        malformed("bad-total-length-0", "bad_total_length",
                  bytes(IP(len=0, **DEFAULT_IP) / tcp)),
        malformed("bad-total-length-below-ihl6", "bad_total_length",
                  bytes(IP(len=20, options=[IPOption_Router_Alert()],
                           **DEFAULT_IP) / tcp)),
        malformed("not-tcp-udp", "not_tcp",
                  bytes(IP(**DEFAULT_IP) / UDP(sport=5353, dport=53))),
        malformed("not-tcp-icmp-echo", "not_tcp",
                  bytes(IP(**DEFAULT_IP) / ICMP())),
        malformed("not-tcp-fragmented-udp", "not_tcp",
                  bytes(IP(**dict(DEFAULT_IP, flags=IP_MF)) / UDP())),
        malformed("fragmented-mf", "fragmented",
                  bytes(IP(**dict(DEFAULT_IP, flags=IP_MF)) / tcp)),
        malformed("fragmented-offset-1", "fragmented",
                  bytes(IP(frag=1, **dict(DEFAULT_IP, flags=0)) / tcp)),
        malformed("fragmented-df-mf-offset-185", "fragmented",
                  bytes(IP(frag=185, **dict(DEFAULT_IP, flags=IP_DF | IP_MF))
                        / tcp)),
        malformed("fragmented-mf-short-tcp", "fragmented",
                  bytes(IP(**dict(ip_only, flags=IP_MF)) / Raw(load=bytes(8)))),
        malformed("bad-data-offset-4", "bad_data_offset",
                  build_tcp(tcp={"dataofs": 4})),
        malformed("bad-data-offset-0", "bad_data_offset",
                  build_tcp(tcp={"dataofs": 0}, payload=b"data")),
        malformed("bad-data-offset-15-20-byte-segment", "bad_data_offset",
                  build_tcp(tcp={"dataofs": 15})),
        malformed("bad-data-offset-6-beyond-total-length", "bad_data_offset",
                  build_tcp(tcp={"dataofs": 6}, trailer=bytes(4))),
        malformed("option-length-0", "option_length",
                  with_options(b"\x02\x00\x05\xb4")),
        malformed("option-length-1", "option_length",
                  with_options(b"\x01\x63\x01\x00")),
        malformed("option-length-1-after-mss", "option_length",
                  with_options(encode_options([("MSS", 1460)]) +
                               b"\x08\x01\x00\x00")),
        malformed("option-overrun-mss-in-last-2-bytes", "option_overrun",
                  with_options(b"\x01\x01\x02\x04")),
        malformed("option-overrun-lone-kind-2-last-byte", "option_overrun",
                  with_options(b"\x01\x01\x01\x02")),
        malformed("option-overrun-lone-kind-5-last-byte", "option_overrun",
                  with_options(encode_options([("MSS", 1460)]) +
                               b"\x01\x01\x01\x05")),
        malformed("option-overrun-timestamp", "option_overrun",
                  with_options(encode_options([("MSS", 1460)]) +
                               b"\x08\x0a" + bytes(6))),
        malformed("option-overrun-kind-254-len-40", "option_overrun",
                  with_options(b"\xfe\x28" + bytes(18))),
    ]


def random_option(rng: random.Random) -> tuple:
    """Draw one TCP option, in Scapy's (name, value) form."""
    roll = rng.random()
    if roll < 0.15:
        return ("NOP", None)
    if roll < 0.25:
        return ("MSS", rng.randrange(1 << 16))
    if roll < 0.35:
        return ("WScale", rng.randrange(256))
    if roll < 0.45:
        return ("SAckOK", b"")
    if roll < 0.55:
        return ("SAck", tuple(rng.getrandbits(32)
                              for _ in range(2 * rng.randrange(5))))
    if roll < 0.65:
        return ("Timestamp", (rng.getrandbits(32), rng.getrandbits(32)))
    if roll < 0.75:
        # A known kind whose length is not the one that decodes it.
        kind, right = rng.choice(((KIND_MSS, 4), (KIND_WS, 3), (KIND_SACKOK, 2),
                                  (KIND_SACK, 10), (KIND_TS, 10)))
        length = rng.choice([n for n in range(2, 9)
                             if n != right and not (kind == KIND_SACK and n == 2)])
        return (kind, rng.randbytes(length - 2))
    return (rng.choice(UNKNOWN_OPTION_KINDS),
            rng.randbytes(rng.randrange(2, 9) - 2))


def random_tcp_layout(rng: random.Random) -> dict:
    """Draw TCP options; return build_tcp arguments placing them.

    Either a Scapy options list (Scapy pads it with zeros), or raw option
    bytes ending in EOL followed by non-zero junk up to a 4-byte boundary.
    """
    options: List[tuple] = []
    used = 0
    for _ in range(rng.randrange(8)):
        option = random_option(rng)
        size = option_wire_length(*option)
        if used + size <= MAX_OPTION_SPACE:
            options.append(option)
            used += size
    if used < MAX_OPTION_SPACE and rng.random() < 0.2:
        junk_len = (-(used + 1)) % 4
        if used + 1 + junk_len + 4 <= MAX_OPTION_SPACE and rng.random() < 0.5:
            junk_len += 4
        junk = bytes(rng.randrange(1, 256) for _ in range(junk_len))
        return {"option_bytes": encode_options(options) + b"\x00" + junk}
    return {"tcp": {"options": options}}


def random_ip_options(rng: random.Random) -> list:
    """Draw a list of IPv4 options (at most 40 bytes once padded)."""
    choice = rng.randrange(4)
    if choice == 0:
        return [IPOption_Router_Alert()]
    if choice == 1:
        return [IPOption_NOP(), IPOption_Router_Alert()]
    if choice == 2:
        return [IPOption_NOP()] * rng.randrange(1, 41)
    routers = ["%d.%d.%d.%d" % tuple(rng.randrange(256) for _ in range(4))
               for _ in range(rng.randrange(1, 10))]
    return [IPOption_RR(routers=routers)]


def random_address(rng: random.Random) -> str:
    """Draw a dotted-quad IPv4 address."""
    return "%d.%d.%d.%d" % tuple(rng.randrange(256) for _ in range(4))


def random_vector(rng: random.Random, index: int) -> Vector:
    """Draw one valid IPv4+TCP vector (about 10% with a wrong checksum)."""
    ip = {"src": random_address(rng), "dst": random_address(rng),
          "tos": rng.randrange(256), "id": rng.randrange(1 << 16),
          "ttl": rng.randrange(256), "flags": rng.choice((0, IP_DF))}
    tcp = {"sport": rng.randrange(1 << 16), "dport": rng.randrange(1 << 16),
           "seq": rng.getrandbits(32), "ack": rng.getrandbits(32),
           "flags": rng.randrange(1 << 9),
           "reserved": rng.randrange(8) if rng.random() < 0.1 else 0,
           "window": rng.randrange(1 << 16), "urgptr": rng.randrange(1 << 16)}
    layout = random_tcp_layout(rng)
    tcp.update(layout.pop("tcp", {}))
    args = dict(layout, ip=ip, tcp=tcp,
                payload=rng.randbytes(rng.randrange(65)))
    if rng.random() < 0.15:
        args["ip_options"] = random_ip_options(rng)
    expect = {}
    ip_xor = tcp_xor = 0
    if rng.random() < 0.1:
        which = rng.randrange(3)
        if which in (0, 2):
            ip_xor = rng.randrange(1, 0xffff)
            expect["ipsum_ok"] = 0
        if which in (1, 2):
            tcp_xor = rng.randrange(1, 0xffff)
            expect["tcpsum_ok"] = 0
    packet = with_checksums(ip_xor=ip_xor, tcp_xor=tcp_xor, **args)
    return valid("random-%04d" % index, packet, **expect)


def random_vectors(seed: int, count: int) -> List[Vector]:
    """Return ``count`` random valid vectors drawn from random.Random(seed)."""
    rng = random.Random(seed)
    return [random_vector(rng, index) for index in range(1, count + 1)]


# ---------------------------------------------------------------------------
# Ethernet+ARP vectors
# ---------------------------------------------------------------------------

BROADCAST_MAC = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"


def arp_frame(eth_dst: str, eth_src: str, op: int, sha: str, spa: str,
              tha: str, tpa: str, trailer: bytes = b"") -> bytes:
    """Build an Ethernet+ARP (IPv4 over Ethernet) frame with Scapy."""
    frame = (Ether(dst=eth_dst, src=eth_src, type=0x0806) /
             ARP(hwtype=1, ptype=0x0800, hwlen=6, plen=4, op=op,
                 hwsrc=sha, psrc=spa, hwdst=tha, pdst=tpa))
    return bytes(frame) + trailer


def arp_vectors() -> List[Vector]:
    """Return Ethernet+ARP vectors: requests, replies, gratuitous, probes."""
    host_a, host_b = "02:00:5e:10:00:01", "fe:dc:ba:98:76:54"
    ip_a, ip_b = "192.0.2.1", "192.0.2.2"
    frames = (
        ("arp-request-broadcast", 1,
         arp_frame(BROADCAST_MAC, host_a, 1, host_a, ip_a, ZERO_MAC, ip_b)),
        ("arp-request-unicast-refresh", 1,
         arp_frame(host_b, host_a, 1, host_a, ip_a, ZERO_MAC, ip_b)),
        ("arp-reply-unicast", 2,
         arp_frame(host_a, host_b, 2, host_b, ip_b, host_a, ip_a)),
        ("arp-reply-broadcast-destination", 2,
         arp_frame(BROADCAST_MAC, host_b, 2, host_b, ip_b, host_a, ip_a)),
        ("arp-gratuitous-request", 1,
         arp_frame(BROADCAST_MAC, host_a, 1, host_a, ip_a, ZERO_MAC, ip_a)),
        ("arp-gratuitous-reply", 2,
         arp_frame(BROADCAST_MAC, host_a, 2, host_a, ip_a, BROADCAST_MAC, ip_a)),
        ("arp-probe-zero-sender-ip", 1,
         arp_frame(BROADCAST_MAC, host_b, 1, host_b, "0.0.0.0", ZERO_MAC,
                   "198.51.100.7")),
        ("arp-request-ethernet-padding", 1,
         arp_frame(BROADCAST_MAC, host_b, 1, host_b, "10.255.255.254",
                   ZERO_MAC, "10.0.0.1", trailer=bytes(18))),
    )
    return [Vector(name, frame, {"op": str(op)}) for name, op, frame in frames]


# ---------------------------------------------------------------------------
# Output and checking
# ---------------------------------------------------------------------------

def write_vectors(vectors: Iterable[Vector], dissect, out) -> int:
    """Dissect each vector, verify its expectations and print its line.

    Returns the number of lines written. Raises RuntimeError when a
    vector's dissection contradicts its expectations (a generator bug).
    """
    written = 0
    for vector in vectors:
        fields = dissect(vector.packet)
        wrong = {key: fields.get(key, MISSING)
                 for key, value in vector.expect.items()
                 if fields.get(key, MISSING) != value}
        if wrong:
            raise RuntimeError("vector %s: expected %s, Scapy says %s"
                               % (vector.name, vector.expect, wrong))
        out.write("%s\t%s\t%s\n" % (vector.name, vector.packet.hex(),
                                    format_fields(fields)))
        written += 1
    return written


def check_unique_names(vectors: List[Vector]) -> None:
    """Raise RuntimeError if two vectors share a name."""
    seen = set()
    for vector in vectors:
        if vector.name in seen:
            raise RuntimeError("duplicate vector name %s" % vector.name)
        seen.add(vector.name)


def emit_tcp(seed: int, count: int, out) -> None:
    """Print the handpicked, malformed and random IPv4+TCP vectors."""
    sections = (
        ("handpicked valid vectors", valid_vectors()),
        ("malformed vectors: the harness must reject each with `error`",
         malformed_vectors()),
        ("random valid vectors (seed %d)" % seed, random_vectors(seed, count)),
    )
    check_unique_names([v for _, vectors in sections for v in vectors])
    out.write("# IPv4+TCP wire vectors (docs/wire-vectors.md), built and "
              "dissected by Scapy %s\n" % scapy.__version__)
    out.write("# generated by: scripts/wire_vectors.py emit --seed %d "
              "--random %d\n" % (seed, count))
    for title, vectors in sections:
        out.write("# %s\n" % title)
        write_vectors(vectors, canonicalize, out)


def emit_arp(out) -> None:
    """Print the Ethernet+ARP vectors."""
    vectors = arp_vectors()
    check_unique_names(vectors)
    out.write("# Ethernet+ARP wire vectors (docs/wire-vectors.md), built and "
              "dissected by Scapy %s\n" % scapy.__version__)
    write_vectors(vectors, canonicalize_arp, out)


def write_corpus(directory: str, out) -> None:
    """Write each handpicked, malformed and ARP vector's bytes as a fuzz seed file."""
    vectors = valid_vectors() + malformed_vectors() + arp_vectors()
    check_unique_names(vectors)
    os.makedirs(directory, exist_ok=True)
    for vector in vectors:
        with open(os.path.join(directory, vector.name), "wb") as seed:
            seed.write(vector.packet)
    out.write("wrote %d seeds to %s\n" % (len(vectors), directory))


def parse_vector_line(line: str) -> Tuple[str, bytes, Dict[str, str]]:
    """Split one vector line into (name, packet bytes, fields).

    Raises ValueError describing the problem when the line is malformed.
    """
    columns = line.split("\t")
    if len(columns) != 3:
        raise ValueError("expected 3 tab-separated columns, got %d"
                         % len(columns))
    name, packet_hex, field_text = columns
    if not name or any(c.isspace() for c in name):
        raise ValueError("bad vector name %r" % name)
    if not HEX_RE.fullmatch(packet_hex):
        raise ValueError("bad hex in the packet column")
    fields: Dict[str, str] = {}
    for token in field_text.split():
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise ValueError("bad field %r (expected key=value)" % token)
        if key in fields:
            raise ValueError("duplicate field %r" % key)
        fields[key] = value
    if not fields:
        raise ValueError("no fields")
    return name, bytes.fromhex(packet_hex), fields


def compare_fields(ours: Dict[str, str],
                   scapy_fields: Dict[str, str]) -> List[Tuple[str, str, str]]:
    """Return (key, ours, scapy) for every key whose values differ.

    When Scapy's dissection rejects the packet only the ``error`` key is
    reported. Values are compared as exact strings (the format is exact).
    """
    if "error" in scapy_fields:
        return [("error", ours.get("error", MISSING), scapy_fields["error"])]
    keys = list(TCP_FIELD_KEYS) + [k for k in ours if k not in TCP_FIELD_KEYS]
    return [(key, ours.get(key, MISSING), scapy_fields.get(key, MISSING))
            for key in keys
            if ours.get(key, MISSING) != scapy_fields.get(key, MISSING)]


def check_lines(path: str, lines: Iterable[str], out) -> Tuple[int, int, int]:
    """Check vector lines against Scapy; return (checked, mismatches, skipped).

    A vector with any differing key counts as one mismatch, and so does a
    malformed line (reported as ``PATH:LINE: problem``).
    """
    checked = mismatches = skipped = 0
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        try:
            name, packet, ours = parse_vector_line(line)
        except ValueError as exc:
            out.write("%s:%d: %s\n" % (path, number, exc))
            checked += 1
            mismatches += 1
            continue
        if "error" in ours:
            skipped += 1
            continue
        checked += 1
        try:
            scapy_fields = canonicalize(packet)
        except Exception as exc:  # Scapy may fail anywhere inside dissection.
            out.write("%s: Scapy could not dissect the packet: %s\n"
                      % (name, exc))
            mismatches += 1
            continue
        differences = compare_fields(ours, scapy_fields)
        for key, our_value, scapy_value in differences:
            out.write("%s: %s: ours=%s scapy=%s\n"
                      % (name, key, our_value, scapy_value))
        if differences:
            mismatches += 1
    return checked, mismatches, skipped


def check_file(path: str, out) -> int:
    """Check the vectors in ``path`` (``-`` for stdin); return the exit status."""
    try:
        if path == "-":
            counts = check_lines("<stdin>", sys.stdin, out)
        else:
            with open(path, encoding="utf-8") as handle:
                counts = check_lines(path, handle, out)
    except (OSError, UnicodeDecodeError) as exc:
        sys.stderr.write("wire_vectors.py: cannot read %s: %s\n" % (path, exc))
        return 1
    checked, mismatches, skipped = counts
    out.write("checked %d vectors, %d mismatches, %d skipped\n"
              % (checked, mismatches, skipped))
    return 0 if mismatches == 0 and checked > 0 else 1


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0, got %d" % value)
    return value


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description="Emit and check wire test vectors (docs/wire-vectors.md) "
                    "with Scapy as an independent oracle for the harness "
                    "codec.")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="COMMAND")
    emit = commands.add_parser(
        "emit", help="print IPv4+TCP vectors built and dissected by Scapy",
        description="Print IPv4+TCP vectors to stdout: handpicked valid "
                    "packets, malformed packets (error=CODE) and pseudo-random "
                    "valid packets. The output depends only on the options.")
    emit.add_argument("--seed", type=int, default=1,
                      help="seed of the random vectors (default: 1)")
    emit.add_argument("--random", type=non_negative_int, default=300,
                      metavar="N",
                      help="number of random vectors (default: 300)")
    check = commands.add_parser(
        "check", help="check IPv4+TCP vectors in FILE against Scapy",
        description="Dissect the packet of every IPv4+TCP vector in FILE with "
                    "Scapy and compare every field, key by key (missing and "
                    "extra keys are differences). Lines with error= are "
                    "skipped. Each difference is printed as "
                    "'NAME: KEY: ours=X scapy=Y', a malformed line as "
                    "'FILE:LINE: problem'; the last line is 'checked N "
                    "vectors, M mismatches, S skipped' (M counts vectors and "
                    "malformed lines). Exit status 0 when N > 0 and M == 0, "
                    "else 1.")
    check.add_argument("file", metavar="FILE",
                       help="vector file to check ('-' for stdin)")
    commands.add_parser(
        "emit-arp", help="print Ethernet+ARP vectors built and dissected by Scapy",
        description="Print Ethernet+ARP vectors (requests, replies, gratuitous "
                    "ARP, an RFC 5227 probe, broadcast destinations, a frame "
                    "zero-padded to the Ethernet minimum) to stdout.")
    corpus = commands.add_parser(
        "corpus", help="write the handpicked, malformed and ARP vectors as fuzz seeds",
        description="Write the packet of every handpicked, malformed and ARP "
                    "vector to DIR/<vector name>: the seed corpus of "
                    "wire_fuzzer (corpus/wire_fuzzer).")
    corpus.add_argument("directory", metavar="DIR", help="output directory")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the selected sub-command; return the process exit status."""
    args = parse_args(argv)
    try:
        if args.command == "emit":
            emit_tcp(args.seed, args.random, sys.stdout)
            return 0
        if args.command == "emit-arp":
            emit_arp(sys.stdout)
            return 0
        if args.command == "corpus":
            write_corpus(args.directory, sys.stdout)
            return 0
        return check_file(args.file, sys.stdout)
    except BrokenPipeError:
        # The reader closed the pipe early (e.g. `| head`): stop quietly, and
        # keep Python from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
