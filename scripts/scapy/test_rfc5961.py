"""Blind in-window attacks (RFC 5961), swept across the receive window from Scapy: a RST or a
SYN anywhere in the window draws a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> and the connection
lives on; only a RST exactly at RCV.NXT resets it. Data whose ACK is outside the acceptable
range is dropped with an ACK, wherever it sits in the window. Both inproc and Linux answer
unacceptable segments at most once per 500 ms per connection (Linux's tcp_invalid_ratelimit),
so the probes are 0.55 s apart: free in inproc's virtual time, real on linux (as root), where
fewer offsets are swept."""
import errno

import pytest
from scapy.layers.inet import IP, TCP

from tcp_helpers import passive_open


def _sweep_offsets(target, rcv_wnd):
    """Offsets from RCV.NXT across the window, its last byte included."""
    if target == "inproc":
        return [1, 2, 100, 1460, 20000, 40000, rcv_wnd // 2, rcv_wnd - 2, rcv_wnd - 1]
    return [1, rcv_wnd // 2, rcv_wnd - 1]


def _open(target, harness_for):
    knobs = {"tcp_challenge_ack_limit": 1000000} if target == "inproc" else {}
    h = harness_for(target, **knobs)
    _, fd, syn_ack, seq = passive_open(h, isn=1000)
    # No window scaling (the SYN offered none): the SYN-ACK's window is the receive window.
    return h, fd, syn_ack.seq + 1, seq, syn_ack[TCP].window


def _pause(h):
    # One answer per 500 ms per connection to unacceptable segments (see the docstring); also
    # checks that nothing came in between.
    h.advance(0.55)
    h.expect_none(0)


def test_in_window_rst_draws_challenge_acks_until_the_exact_sequence_number(target, harness_for):
    h, fd, snd_nxt, rcv_nxt, rcv_wnd = _open(target, harness_for)
    offsets = _sweep_offsets(target, rcv_wnd)
    for off in offsets:
        _pause(h)
        h.send(IP() / TCP(flags="R", seq=rcv_nxt + off, window=0))
        h.expect(timeout=1, flags="A", seq=snd_nxt, ack=rcv_nxt)
        assert h.snapshot(fd)["state"] == "ESTABLISHED", f"a RST at RCV.NXT+{off} reset it"
    # Outside the window: silently dropped (RFC 5961 3.2, 1).
    h.send(IP() / TCP(flags="R", seq=rcv_nxt + rcv_wnd + 10, window=0))
    h.send(IP() / TCP(flags="R", seq=rcv_nxt - 10, window=0))
    h.expect_none(0.2)
    assert h.snapshot(fd)["state"] == "ESTABLISHED"
    # Exactly RCV.NXT: the connection is reset, with nothing sent back.
    h.send(IP() / TCP(flags="R", seq=rcv_nxt, window=0))
    h.expect_none(0.2)
    with pytest.raises(ConnectionResetError) as e:
        h.read(fd)
    assert e.value.errno == errno.ECONNRESET


def test_syn_anywhere_in_the_window_draws_a_challenge_ack(target, harness_for):
    h, fd, snd_nxt, rcv_nxt, rcv_wnd = _open(target, harness_for)
    for off in [0] + _sweep_offsets(target, rcv_wnd):
        _pause(h)
        h.send(IP() / TCP(flags="S", seq=rcv_nxt + off, window=65535, options=[("MSS", 1460)]))
        h.expect(timeout=1, flags="A", seq=snd_nxt, ack=rcv_nxt)
        assert h.snapshot(fd)["state"] == "ESTABLISHED", f"a SYN at RCV.NXT+{off} reset it"
    # The connection still carries data both ways.
    h.send(IP() / TCP(flags="PA", seq=rcv_nxt, ack=snd_nxt, window=65535) / b"ok")
    h.expect(timeout=1, flags="A", ack=rcv_nxt + 2)
    assert h.read(fd) == b"ok"


def test_blind_data_with_an_unacceptable_ack_is_dropped_with_an_ack(target, harness_for):
    h, fd, snd_nxt, rcv_nxt, rcv_wnd = _open(target, harness_for)
    # RFC 5961 5.2: SEG.ACK must be in [SND.UNA - MAX.SND.WND, SND.NXT]. Ours: beyond SND.NXT
    # (acknowledging data never sent) and far behind SND.UNA (more than a window old).
    bad_acks = [snd_nxt + 1, snd_nxt + 100000, snd_nxt - 65535 - 100, snd_nxt - 0x40000000]
    for off in [0] + [o for o in _sweep_offsets(target, rcv_wnd) if o < rcv_wnd - 8]:
        for ack in bad_acks if target == "inproc" else bad_acks[::2]:
            _pause(h)
            h.send(IP() / TCP(flags="PA", seq=rcv_nxt + off, ack=ack & 0xFFFFFFFF,
                              window=65535) / b"injected")
            h.expect(timeout=1, flags="A", seq=snd_nxt, ack=rcv_nxt)
    with pytest.raises(BlockingIOError):
        h.read(fd)  # nothing injected reached the application
    assert h.snapshot(fd)["state"] == "ESTABLISHED"
    # The same bytes with an acceptable ACK are taken.
    h.send(IP() / TCP(flags="PA", seq=rcv_nxt, ack=snd_nxt, window=65535) / b"genuine")
    h.expect(timeout=1, flags="A", ack=rcv_nxt + 7)
    assert h.read(fd) == b"genuine"
