"""synack from Python: TCP conformance cases written with Scapy, against any synack target.

    import synack
    from scapy.layers.inet import IP, TCP

    with synack.Harness("inproc") as h:
        fd = h.listen(8080)
        h.send(IP() / TCP(sport=40000, dport=8080, flags="S", seq=100))
        syn_ack = h.expect(flags="SA", ack=101)
        h.send(IP() / TCP(sport=40000, dport=8080, flags="A", seq=101, ack=syn_ack.seq + 1))
        conn = h.accept(fd)
        assert h.snapshot(conn)["state"] == "ESTABLISHED"

The harness plays the remote host 192.168.0.2; the stack under test is 192.168.0.1 (and
192.168.0.3). Targets: "inproc" (synack's own stack in virtual time), "linux" (the kernel's TCP
in a fresh network namespace, real time, root only) and "tap:IFNAME[,agent=ADDR]" (any stack
behind a tap, real time). The black-box oracle (harness/oracle) watches every segment both ways
and the application's bytes; a violation raises OracleViolation naming the invariant, at the
call that exposed it.
"""

from __future__ import annotations

import errno as _errno
import os as _os
import socket as _socket
import time as _time
from collections import deque as _deque
from dataclasses import dataclass as _dataclass
from dataclasses import field as _field
from typing import Any, Callable, Iterable, Optional, Union

from . import _synack

__all__ = [
    "Harness",
    "ScriptResult",
    "run_script",
    "SynackError",
    "ExpectationError",
    "OracleViolation",
    "TargetError",
    "TARGET_ADDR",
    "HARNESS_ADDR",
]

TARGET_ADDR = "192.168.0.1"
"""The stack under test's address on every target."""
HARNESS_ADDR = "192.168.0.2"
"""The remote host the harness plays."""

TargetError = _synack.TargetError
"""A target that cannot be made or used here: not root, no such tap device, a dead agent."""


class SynackError(AssertionError):
    """Base of the failures a case reports (an AssertionError, so pytest shows them as such)."""


class ExpectationError(SynackError):
    """expect() or expect_none() did not see what it was told to: says which fields differed."""


class OracleViolation(SynackError):
    """The black-box oracle saw a TCP invariant broken.

    Attributes: invariant (its stable name, e.g. "ack-monotonic"), detail (the connection, the
    offending segment, what was expected) and time (seconds since the harness was made).
    """

    def __init__(self, invariant: str, detail: str, time: float, text: str):
        super().__init__(f"oracle: {text}")
        self.invariant = invariant
        self.detail = detail
        self.time = time


_IN, _OUT = "in", "out"  # to the target (the script's "<"), from it (">")

# Linux TCP_* state numbers (what tcp_info reports on every target) to RFC 9293 names.
_LINUX_STATES = {
    1: "ESTABLISHED", 2: "SYN-SENT", 3: "SYN-RECEIVED", 4: "FIN-WAIT-1", 5: "FIN-WAIT-2",
    6: "TIME-WAIT", 7: "CLOSED", 8: "CLOSE-WAIT", 9: "LAST-ACK", 10: "LISTEN", 11: "CLOSING",
    12: "SYN-RECEIVED",
}
_SHUT = {"SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2}
_TCP_FIELDS = ("sport", "dport", "seq", "ack", "dataofs", "reserved", "flags", "window", "chksum",
               "urgptr", "options")
_IP_FIELDS = ("src", "dst", "tos", "ttl", "id", "len", "ihl", "frag", "proto")
_EXTRA_FIELDS = ("payload", "payload_len", "ip_flags", "ip_chksum")


def _scapy():
    # Scapy is imported on first use: `import synack` stays fast, and a missing Scapy is a clear
    # error (Debian: python3-scapy) rather than an import failure of the whole package.
    try:
        from scapy.layers.inet import IP, TCP  # noqa: WPS433
        from scapy.packet import Packet, Raw
    except ImportError as e:  # pragma: no cover - python3-scapy is a declared dependency
        raise ImportError("synack needs Scapy: apt-get install python3-scapy") from e
    return IP, TCP, Packet, Raw


def _addr(text: Optional[str], what: str) -> int:
    if text is None:
        return 0
    try:
        return int.from_bytes(_socket.inet_aton(text), "big")
    except (OSError, TypeError) as e:
        raise ValueError(f"{what}: {text!r} is not an IPv4 address (a.b.c.d)") from e


@_dataclass
class ScriptResult:
    """What run_script() found: verdict "pass", "fail" or "error" (the script or the target
    failed), passed (verdict == "pass"), message (why, with file:line), duration (script time
    covered, seconds), wall_seconds, and the segments both ways (segments())."""

    path: str
    verdict: str
    message: str
    duration: float
    wall_seconds: float
    link: list = _field(default_factory=list, repr=False)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def segments(self) -> list:
        """Every segment of the case as Scapy packets, .time in script seconds and .direction
        "in" (to the target) or "out" (from it)."""
        IP, _, _, _ = _scapy()
        out = []
        for to_target, time_us, raw in self.link:
            p = IP(raw)
            p.time = time_us / 1e6
            p.direction = _IN if to_target else _OUT
            out.append(p)
        return out

    def __bool__(self) -> bool:
        return self.passed


def run_script(path: Union[str, "_os.PathLike[str]"], target: str = "inproc", *,
               tolerance_usecs: Optional[int] = None,
               tolerance_percent: Optional[float] = None) -> ScriptResult:
    """Runs one packetdrill-style .pkt case exactly as `synack run --target TARGET PATH` does
    (a fresh target, the same runner and oracle) and returns a ScriptResult. A script that does
    not parse is verdict "error" with file:line:column; a target that cannot run here raises
    TargetError."""
    path = _os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"run_script: path must be a str or path, not {type(path).__name__}")
    start = _time.monotonic()
    d = _synack.run_script(path, target, tolerance_usecs, tolerance_percent)
    return ScriptResult(path=path, verdict=d["verdict"], message=d["message"],
                        duration=d["duration_us"] / 1e6,
                        wall_seconds=_time.monotonic() - start, link=d["link"])


def _knob_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"knob {name}: expected an int, bool or str, not {type(value).__name__}")


class Harness:
    """One target, driven from Python: packets in and out as Scapy packets, the target's
    socket calls, its TCP state, with the oracle watching.

    Harness(target="inproc", *, seed=1, oracle=True, **knobs)

    target: "inproc", "linux" (root; a namespace synack-<pid>-<n>, removed on close()) or
    "tap:IFNAME[,agent=unix:PATH|HOST:PORT][,mac=MAC]". knobs are the script language's stack
    knobs (tcp_syncookies=0, tcp_syn_retries=3, tcp_msl=1, ...), applied before anything else;
    one the target does not know is a ValueError. seed: inproc's ISN/random seed.
    Use it as a context manager (or call close()) so that the target goes away.
    """

    def __init__(self, target: str = "inproc", *, seed: int = 1, oracle: bool = True,
                 **knobs: Any):
        if not isinstance(target, str):
            raise TypeError(f"target must be a str such as 'inproc', not {type(target).__name__}")
        k = {name: _knob_value(name, v) for name, v in knobs.items()}
        self._h = _synack.Harness(target, k, int(seed), bool(oracle))
        self._target = target
        self._pending: _deque = _deque()  # (raw, time_us) captured by advance(), not yet expected
        self._log: list = []  # (direction, time_us, raw)
        self._reported = 0  # oracle violations raised so far

    # --- lifetime ---------------------------------------------------------------------------

    def __enter__(self) -> "Harness":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass

    @property
    def target(self) -> str:
        """The target's name: "inproc", "linux" or "tap"."""
        return self._h.name

    # --- time -------------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the harness was made, on the target's clock (virtual on inproc)."""
        return self._h.now_us() / 1e6

    def advance(self, seconds: float) -> None:
        """Lets `seconds` pass: at once in virtual time on inproc, by waiting in real time on
        linux and tap. Whatever the target sends meanwhile is kept, in order, for expect()."""
        seconds = self._seconds(seconds, "advance")
        deadline = self._h.now_us() + int(seconds * 1e6)
        while True:
            got = self._h.next_packet(deadline)
            if got is None:
                break
            self._record(_OUT, got[1], got[0])
            self._pending.append(got)
        self._check_oracle()

    # --- packets ----------------------------------------------------------------------------

    def send(self, pkt: Any) -> None:
        """Sends an IPv4/TCP packet to the target now: a Scapy packet (IP()/TCP(...)) or its
        bytes. Unset fields default to the harness's view: IP src 192.168.0.2, dst 192.168.0.1,
        TCP sport 40000, dport 8080; lengths and checksums are computed unless set (set chksum
        to send a bad one). Anything else (no IP layer, not TCP, a field of the wrong type,
        bytes that do not parse) raises TypeError or ValueError saying what was wrong."""
        raw = self._to_bytes(pkt)
        self._h.inject(raw)
        self._record(_IN, self._h.now_us(), raw)
        self._check_oracle()

    def expect(self, timeout: float = 1.0, *, ignore: Optional[Callable[[Any], bool]] = None,
               **fields: Any):
        """Returns the next segment from the target as a Scapy IP packet (with .time), waiting up
        to `timeout` seconds (virtual on inproc), and checks it: each keyword is a field that
        must match. TCP fields: sport, dport, seq, ack, flags (a string in any order, "SA" ==
        "AS", or an int), window, urgptr, chksum, dataofs, reserved, options (a list as Scapy
        shows them, or a dict such as {"MSS": 1460, "SAckOK": None} of options that must be
        there, None matching any value); IP fields: src, dst, tos, ttl, id, len, ihl, frag,
        ip_flags, ip_chksum; payload (bytes) and payload_len. A value may also be a callable,
        true for a match. ignore: a callable; segments it is true for are skipped (still seen
        by the oracle and segments()), e.g. other connections' during a flood. Raises
        ExpectationError listing every field that differed, with the segment, or saying that
        none came."""
        self._check_fields(fields)
        timeout = self._seconds(timeout, "expect: timeout")
        IP, _, _, _ = _scapy()
        deadline_us = self._h.now_us() + int(timeout * 1e6)
        while True:
            got = self._next(max(0, deadline_us - self._h.now_us()) / 1e6)
            if got is None:
                want = _describe(fields)
                raise ExpectationError(
                    f"expected a segment{want} within {timeout:g} s, but the target sent "
                    f"nothing{' else' if ignore else ''} (now {self.now():.6f} s)")
            raw, time_us = got
            pkt = IP(raw)
            pkt.time = time_us / 1e6
            pkt.direction = _OUT
            if ignore is None or not ignore(pkt):
                break
        diffs = _diff(pkt, fields)
        if diffs:
            raise ExpectationError(
                f"segment at {time_us / 1e6:.6f} s differs: " + ", ".join(diffs)
                + f"\n  actual: {_summary(pkt)}")
        return pkt

    def expect_none(self, duration: float) -> None:
        """Checks that the target sends nothing for `duration` seconds (virtual on inproc);
        raises ExpectationError with the segment that came otherwise."""
        duration = self._seconds(duration, "expect_none")
        got = self._next(duration)
        if got is not None:
            IP, _, _, _ = _scapy()
            raise ExpectationError(
                f"expected no segment for {duration:g} s, but at {got[1] / 1e6:.6f} s the target "
                f"sent: {_summary(IP(got[0]))}")

    def drain(self, seconds: float = 0) -> list:
        """Lets `seconds` pass (see advance()) and returns every segment the target sent that
        expect() has not consumed yet, as Scapy packets; expect() then starts afresh."""
        self.advance(seconds)
        IP, _, _, _ = _scapy()
        out = []
        while self._pending:
            raw, time_us = self._pending.popleft()
            p = IP(raw)
            p.time = time_us / 1e6
            p.direction = _OUT
            out.append(p)
        return out

    def observe(self, pkt: Any, direction: str = _OUT) -> None:
        """Hands a segment to the oracle as if it had crossed the link ("out": from the target,
        "in": to it) without sending it: to judge segments captured elsewhere (a pcap read with
        Scapy), or to check the checks. Raises OracleViolation as send() and expect() do."""
        if direction not in (_IN, _OUT):
            raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
        raw = self._to_bytes(pkt, outbound=direction == _OUT)
        self._h.observe(raw, direction == _OUT)
        self._check_oracle()

    def segments(self, direction: Optional[str] = None) -> list:
        """Every segment seen so far, in order, as Scapy packets with .time (seconds) and
        .direction ("in": to the target; "out": from it). direction="in" or "out" filters."""
        if direction not in (None, _IN, _OUT):
            raise ValueError(f"direction must be None, 'in' or 'out', not {direction!r}")
        IP, _, _, _ = _scapy()
        out = []
        for d, time_us, raw in self._log:
            if direction is None or d == direction:
                p = IP(raw)
                p.time = time_us / 1e6
                p.direction = d
                out.append(p)
        return out

    # --- socket calls (the target's application) ---------------------------------------------
    # Every call returns at once: one that would block raises BlockingIOError (EAGAIN), like a
    # non-blocking socket; errors are OSError with the target's errno (ConnectionResetError,
    # ...). Ports: bind/listen take the target's port; connect the harness's.

    def socket(self) -> int:
        """socket(AF_INET, SOCK_STREAM): a new fd."""
        return self._ret(self._h.socket(), "socket()")

    def bind(self, fd: int, port: int = 8080, addr: Optional[str] = None) -> None:
        """bind(fd, addr:port); addr None is INADDR_ANY (or "192.168.0.3", the second address)."""
        self._ret(self._h.bind(self._fd(fd), self._port(port), _addr(addr, "bind")),
                  f"bind({fd}, port {port})")

    def listen(self, port: int = 8080, backlog: int = 1, *, addr: Optional[str] = None,
               fd: Optional[int] = None) -> int:
        """A listening socket on `port`: socket(), SO_REUSEADDR, bind(), listen(backlog), as the
        scripts' first four lines; returns its fd. With fd=, binds and listens on that socket
        instead (made with socket(), options set)."""
        if not isinstance(backlog, int) or isinstance(backlog, bool):
            raise TypeError(f"listen: backlog must be an int, not {type(backlog).__name__}")
        if fd is None:
            fd = self.socket()
            self.setsockopt(fd, "SO_REUSEADDR", 1)
        self.bind(fd, port, addr)
        self._ret(self._h.listen(self._fd(fd), backlog), f"listen({fd}, {backlog})")
        return fd

    def accept(self, fd: int) -> int:
        """accept(fd): the fd of an established connection; BlockingIOError when none is
        queued yet."""
        return self._ret(self._h.accept(self._fd(fd)), f"accept({fd})")

    def connect(self, port: int = 8080, addr: Optional[str] = None, *,
                fd: Optional[int] = None) -> int:
        """An active open to the harness's `port` (addr None: the harness, 192.168.0.2), from a
        new socket or fd=; returns the fd. Non-blocking: the SYN is sent and the handshake goes
        on with the segments you send (EINPROGRESS is the normal outcome and not raised)."""
        if fd is None:
            fd = self.socket()
        ret, err, _, _ = self._h.connect(self._fd(fd), self._port(port), _addr(addr, "connect"))
        if ret < 0 and err != _errno.EINPROGRESS:
            raise _oserror(err, f"connect({fd}, port {port})")
        self._check_oracle()
        return fd

    def read(self, fd: int, n: int = 65536) -> bytes:
        """read(fd, n): up to n bytes; b"" at end of stream; BlockingIOError when nothing has
        arrived."""
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"read: n must be a non-negative int, not {n!r}")
        ret, err, data, _ = self._h.read(self._fd(fd), n)
        if ret < 0:
            raise _oserror(err, f"read({fd}, {n})")
        self._check_oracle()
        return data

    def write(self, fd: int, data: Union[bytes, bytearray, memoryview, str]) -> int:
        """write(fd, data): how many bytes the target took (a str is encoded as UTF-8)."""
        if isinstance(data, str):
            data = data.encode()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"write: data must be bytes, not {type(data).__name__}")
        return self._ret(self._h.write(self._fd(fd), bytes(data)), f"write({fd}, {len(data)})")

    def shutdown(self, fd: int, how: Union[str, int] = "SHUT_WR") -> None:
        """shutdown(fd, how): "SHUT_RD", "SHUT_WR" (the default) or "SHUT_RDWR" (or
        socket.SHUT_*)."""
        if isinstance(how, str):
            if how not in _SHUT:
                raise ValueError(f"shutdown: how must be SHUT_RD, SHUT_WR or SHUT_RDWR, not {how!r}")
            how = _SHUT[how]
        self._ret(self._h.shutdown(self._fd(fd), int(how)), f"shutdown({fd}, {how})")

    def close(self, fd: Optional[int] = None) -> None:
        """close(fd) closes the target's socket fd; close() with no fd releases the whole
        target (as leaving the `with` block does)."""
        if fd is None:
            if getattr(self, "_h", None) is not None and not self._h.closed:
                self._h.shutdown_target()
            return
        self._ret(self._h.close(self._fd(fd)), f"close({fd})")

    def setsockopt(self, fd: int, option: str, value: Union[int, bool, tuple]) -> None:
        """setsockopt(fd, option, value) with the script language's option names: SO_REUSEADDR,
        SO_KEEPALIVE, SO_LINGER ((onoff, seconds)), SO_RCVBUF, SO_SNDBUF, TCP_NODELAY,
        TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT, IP_TOS, IP_TTL."""
        if not isinstance(option, str):
            raise TypeError(f"setsockopt: option must be a name such as 'TCP_NODELAY', not "
                            f"{type(option).__name__}")
        linger_on = False
        if option == "SO_LINGER":
            if not (isinstance(value, tuple) and len(value) == 2):
                raise TypeError("setsockopt: SO_LINGER takes (onoff, seconds)")
            linger_on, value = bool(value[0]), value[1]
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int):
            raise TypeError(f"setsockopt: {option} takes an int, not {type(value).__name__}")
        self._ret(self._h.setsockopt(self._fd(fd), option, value, linger_on),
                  f"setsockopt({fd}, {option}, {value})")

    def getsockopt(self, fd: int, option: str) -> int:
        """getsockopt(fd, option): its value (SO_ERROR gives the pending error's errno)."""
        if not isinstance(option, str):
            raise TypeError("getsockopt: option must be a name such as 'SO_ERROR'")
        ret, err, _, value = self._h.getsockopt(self._fd(fd), option)
        if ret < 0:
            raise _oserror(err, f"getsockopt({fd}, {option})")
        return value

    def poll(self, fd: int) -> int:
        """The fd's readiness, as poll() revents bits (select.POLLIN, POLLOUT, POLLHUP, ...)."""
        return self._h.poll(self._fd(fd))

    # --- state ------------------------------------------------------------------------------

    def tcp_info(self, fd: int) -> dict:
        """The fd's TCP_INFO fields without the tcpi_ prefix (state as Linux's number, rto, ...)."""
        info = self._h.tcp_info(self._fd(fd))
        if info is None:
            raise _oserror(_errno.EBADF, f"tcp_info({fd})")
        return dict(info)

    def snapshot(self, fd: int) -> dict:
        """The connection behind fd as a dict: "state" (RFC 9293 name, "ESTABLISHED"), "tcpi"
        (tcp_info()), and on inproc the stack's variables: iss, irs, snd_una, snd_nxt,
        snd_max, snd_wnd, rcv_nxt, rcv_wnd, cwnd and ssthresh (bytes), rto and srtt (us),
        send_queue, recv_queue, retransmits, ... and the deadlines of running timers
        (rtx_deadline, persist_deadline, ...; target clock, us). On linux and tap: state, tcpi,
        and cwnd (snd_cwnd * snd_mss) and rto from TCP_INFO."""
        info = self.tcp_info(fd)
        snap = {"state": _LINUX_STATES.get(info.get("state", 7), str(info.get("state"))),
                "tcpi": info}
        stack = self._h.stack_snapshot(self._fd(fd))
        if stack is not None:
            state, values = stack
            snap.update(values)
            snap["state"] = state
        else:
            if "snd_cwnd" in info and "snd_mss" in info:
                snap["cwnd"] = info["snd_cwnd"] * info["snd_mss"]
            if "rto" in info:
                snap["rto"] = info["rto"]
        return snap

    def connection(self, fd: int) -> Optional[tuple]:
        """(target addr, target port, harness addr, harness port) of fd's connection, or None."""
        k = self._h.connection(self._fd(fd))
        if k is None:
            return None
        return (_socket.inet_ntoa(k[0].to_bytes(4, "big")), k[1],
                _socket.inet_ntoa(k[2].to_bytes(4, "big")), k[3])

    def violations(self) -> list:
        """Every oracle violation so far, as OracleViolation objects (raised or not)."""
        return [OracleViolation(i, d, t / 1e6, s) for i, d, t, s in self._h.violations(0)]

    def run_script(self, path, **kwargs) -> ScriptResult:
        """run_script(path) on a fresh target of this harness's kind (see synack.run_script)."""
        return run_script(path, self._target, **kwargs)

    # --- internals --------------------------------------------------------------------------

    def _next(self, timeout: float):
        if self._pending:
            got = self._pending.popleft()
        else:
            got = self._h.next_packet(self._h.now_us() + int(timeout * 1e6))
            if got is not None:
                self._record(_OUT, got[1], got[0])
        self._check_oracle()
        return got

    def _record(self, direction: str, time_us: int, raw: bytes) -> None:
        self._log.append((direction, time_us, raw))

    def _check_oracle(self) -> None:
        if self._h.violation_count() > self._reported:
            new = self._h.violations(self._reported)
            self._reported = self._h.violation_count()
            if new:
                i, d, t, s = new[0]
                raise OracleViolation(i, d, t / 1e6, s)

    def _ret(self, result: tuple, what: str) -> int:
        ret, err, _, _ = result
        if ret < 0:
            raise _oserror(err, what)
        self._check_oracle()
        return ret

    @staticmethod
    def _fd(fd: Any) -> int:
        if not isinstance(fd, int) or isinstance(fd, bool):
            raise TypeError(f"fd must be an int, not {type(fd).__name__}")
        return fd

    @staticmethod
    def _port(port: Any) -> int:
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, not {port!r}")
        return port

    @staticmethod
    def _seconds(value: Any, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{what} must be a non-negative number of seconds, not {value!r}")
        return float(value)

    def _to_bytes(self, pkt: Any, outbound: bool = False) -> bytes:
        if isinstance(pkt, (bytes, bytearray, memoryview)):
            return bytes(pkt)  # the C++ codec checks that it is a whole IPv4/TCP packet
        IP, TCP, Packet, _ = _scapy()
        if not isinstance(pkt, Packet):
            raise TypeError(f"send() takes a Scapy packet (IP()/TCP(...)) or bytes, not "
                            f"{type(pkt).__name__}")
        if not isinstance(pkt, IP):
            what = "a TCP segment without IP" if pkt.haslayer(TCP) else f"a {pkt.name} packet"
            raise ValueError(f"send() needs an IPv4 packet, IP()/TCP(...), but got {what}: "
                             f"{pkt.summary()}")
        if not pkt.haslayer(TCP) or not isinstance(pkt.payload, TCP):
            raise ValueError(f"send() takes TCP over IPv4 only; got {pkt.summary()}")
        pkt = pkt.copy()
        # Defaults as the script language has them: the harness 192.168.0.2 port 40000, the
        # target 192.168.0.1 port 8080 (the other way round for a segment from the target).
        local, remote = (TARGET_ADDR, 8080), (HARNESS_ADDR, 40000)
        src, dst = (local, remote) if outbound else (remote, local)
        if "src" not in pkt.fields:
            pkt.src = src[0]
        if "dst" not in pkt.fields:
            pkt.dst = dst[0]
        tcp = pkt[TCP]
        if "sport" not in tcp.fields:
            tcp.sport = src[1]
        if "dport" not in tcp.fields:
            tcp.dport = dst[1]
        try:
            return bytes(pkt)
        except Exception as e:  # Scapy raises struct.error, TypeError, ValueError, ...
            raise TypeError(f"send(): Scapy cannot build {pkt.summary()!r}: a field has a value "
                            f"of the wrong type or range ({type(e).__name__}: {e})") from e

    @staticmethod
    def _check_fields(fields: dict) -> None:
        for name in fields:
            if name not in _TCP_FIELDS and name not in _IP_FIELDS and name not in _EXTRA_FIELDS:
                raise TypeError(
                    f"expect(): no field {name!r}; TCP: {', '.join(_TCP_FIELDS)}; IP: "
                    f"{', '.join(_IP_FIELDS)}; also {', '.join(_EXTRA_FIELDS)}")


def _oserror(err: int, what: str) -> OSError:
    # OSError(errno, ...) picks the subclass: BlockingIOError, ConnectionResetError, ...
    name = _errno.errorcode.get(err, str(err))
    return OSError(err, f"{_os.strerror(err)} ({name}, from {what})")


def _flags_set(v: Any) -> frozenset:
    _, TCP, _, _ = _scapy()
    if isinstance(v, str):
        return frozenset(v.replace(".", "A"))
    return frozenset(str(TCP(flags=int(v)).flags))


def _actual(pkt, name: str):
    _, TCP, _, Raw = _scapy()
    tcp = pkt[TCP] if pkt.haslayer(TCP) else None
    if name == "payload":
        return bytes(tcp.payload) if tcp is not None else b""
    if name == "payload_len":
        return len(bytes(tcp.payload)) if tcp is not None else 0
    if name == "ip_flags":
        return pkt.flags
    if name == "ip_chksum":
        return pkt.chksum
    if name in _TCP_FIELDS:
        return getattr(tcp, name) if tcp is not None else None
    return getattr(pkt, name)


def _diff(pkt, fields: dict) -> list:
    diffs = []
    for name, want in fields.items():
        have = _actual(pkt, name)
        if callable(want):
            ok = bool(want(have))
            if not ok:
                diffs.append(f"{name} (actual {have!r} fails {getattr(want, '__name__', 'the check')})")
            continue
        if name == "flags":
            ok = _flags_set(want) == _flags_set(have)
            if not ok:
                diffs.append(f"flags (expected {want!r}, actual {str(have)!r})")
            continue
        if name == "options" and isinstance(want, dict):
            opts = dict((o[0], o[1]) for o in have)
            missing = [f"{k}={v!r}" if v is not None else k for k, v in want.items()
                       if k not in opts or (v is not None and opts[k] != v)]
            if missing:
                diffs.append(f"options (expected {', '.join(missing)} in {have!r})")
            continue
        if name in ("src", "dst"):
            ok = str(have) == str(want)
        elif name == "ip_flags":
            ok = int(have) == int(want) if isinstance(want, int) else str(have) == str(want)
        elif name == "payload":
            ok = bytes(have) == bytes(want)
        else:
            ok = have == want
        if not ok:
            diffs.append(f"{name} (expected {want!r}, actual {have!r})")
    return diffs


def _describe(fields: dict) -> str:
    if not fields:
        return ""
    return " with " + ", ".join(f"{k}={v!r}" for k, v in fields.items() if not callable(v))


def _summary(pkt) -> str:
    _, TCP, _, _ = _scapy()
    if not pkt.haslayer(TCP):
        return pkt.summary()
    t = pkt[TCP]
    opts = f" options {t.options}" if t.options else ""
    n = len(bytes(t.payload))
    return (f"{pkt.src}.{t.sport} > {pkt.dst}.{t.dport}: Flags [{t.flags}], seq {t.seq}, "
            f"ack {t.ack}, win {t.window}{opts}, length {n}")
