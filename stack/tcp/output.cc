// Segment formation (RFC 9293 3.10): SYN and SYN,ACK with options, ACKs, data and FIN within the
// send window, RST, and the receive window we advertise.
#include <algorithm>
#include <array>

#include "stack/planted.h"
#include "stack/tcp/engine.h"

namespace synack::stack {
namespace {

constexpr std::uint16_t kMaxUnscaledWindow = 65535;

}  // namespace

std::uint32_t Engine::ts_now(const Tcb& t) const {
  // RFC 7323 5.4: a millisecond clock with a random per-connection offset.
  return static_cast<std::uint32_t>(now_.count() / 1000) + t.ts_offset;
}

std::uint16_t Engine::advertised_window(Tcb& t) {
  // RCV.WND follows free buffer space (what is queued out of order is spoken for), and:
  //  - the right edge already advertised never moves left (RFC 9293 3.8.6.2.2; MUST-34 is the
  //    peer's side of the same rule), so the promise is rounded up to the scale unit, as far
  //    as the buffer allows (below);
  //  - receiver SWS avoidance (3.8.6.2.2, MUST-39): the edge moves right only by at least
  //    min(RCV.BUFF / 2, Eff.snd.MSS), never by dribbles as the application reads.
  if (t.state == State::kSynReceived) {
    // RFC 7323 2.2: the SYN,ACK's window is never scaled, so a retransmitted SYN,ACK can
    // promise at most 65535 bytes. Until the handshake completes no other segment promises
    // more (as Linux answers from the request's window), so the edge the SYN,ACK set stands.
    const std::uint32_t syn_window = std::min<std::uint32_t>(t.rcv_buf_cap, kMaxUnscaledWindow);
    return static_cast<std::uint16_t>(syn_window >> t.rcv_wscale);
  }
  const auto used = static_cast<std::uint32_t>(t.recv_buf.size() + t.ooo.bytes());
  const std::uint32_t free_space = t.rcv_buf_cap > used ? t.rcv_buf_cap - used : 0;
  const std::uint32_t unit = 1U << t.rcv_wscale;
  const std::uint32_t max_field_bytes = std::uint32_t{kMaxUnscaledWindow} << t.rcv_wscale;
  const std::uint32_t offer = std::min(free_space, max_field_bytes) & ~(unit - 1);
  const SeqNum candidate = t.rcv_nxt + offer;
  const std::uint32_t step = std::min<std::uint32_t>(t.rcv_buf_cap / 2, t.snd_mss);
  if (candidate.after(t.rcv_adv) && distance(t.rcv_adv, candidate) >= step) {
    t.rcv_adv = candidate;
  }
  // The field counts whole scale units from RCV.NXT, so once RCV.NXT has moved by part of a unit
  // the edge already promised falls between two values the field can say (RFC 7323 2.4,
  // Appendix F). Rounding up keeps the edge, but then promises up to a unit beyond the buffer;
  // doing so on every ACK while the application does not read would move the edge right each
  // time with no room behind it (with segments shorter than a unit the window would never
  // close). So round up only while the edge stays within one unit of the buffer's end (the
  // first byte not yet read + RCV.BUFF), and otherwise round down: the edge then appears to move
  // left by less than a unit, the retraction RFC 7323 2.4 says scaling can force. Shrinking is
  // a SHOULD NOT (RFC 9293 3.8.6, SHLD-14), and every sender must cope with it (MUST-34).
  // rcv_adv keeps the furthest edge announced, and data up to it is still accepted.
  const std::uint32_t promised = t.rcv_wnd();
  std::uint32_t field =
      std::min<std::uint32_t>((promised + unit - 1) >> t.rcv_wscale, kMaxUnscaledWindow);
  const SeqNum buffer_end =
      t.rcv_nxt - static_cast<std::uint32_t>(t.recv_buf.size()) + t.rcv_buf_cap;
  if ((field << t.rcv_wscale) > promised &&
      (t.rcv_nxt + (field << t.rcv_wscale)).after(buffer_end + (unit - 1))) {
    --field;
  }
  const SeqNum edge = t.rcv_nxt + (field << t.rcv_wscale);
  if (edge.after(t.rcv_adv)) t.rcv_adv = edge;
  return static_cast<std::uint16_t>(field);
}

void Engine::emit_packet(const Segment& s, std::span<const std::uint8_t> payload) {
  Packet p;
  if (!spare_packets_.empty()) {
    p = std::move(spare_packets_.back());
    spare_packets_.pop_back();
  }
  emit_segment(s, payload, p);  // (throws for a segment too long for IPv4: nothing appended)
  output_.push_back(std::move(p));
}

void Engine::emit(Tcb& t, std::uint8_t flags, SeqNum seq, std::span<const std::uint8_t> payload,
                  bool syn_options) {
  Segment s;
  s.src_addr = t.tuple.local_addr;
  s.dst_addr = t.tuple.remote_addr;
  s.src_port = t.tuple.local_port;
  s.dst_port = t.tuple.remote_port;
  // MUST-48, MUST-49: the connection's IP_TOS and IP_TTL (a connection from a listener has the
  // listener's, SYN,ACK included), on every segment, RSTs included.
  s.tos = t.options.tos;
  s.ttl = ttl_of(t.options);
  s.seq = seq;
  s.flags = flags;
  if ((flags & tcp_flag::kAck) != 0) {
    s.ack = t.rcv_nxt;
    t.last_ack_sent = t.rcv_nxt;
    t.delack_deadline.reset();  // this segment carries the pending ACK
    t.unacked_full_segments = 0;
  }
  if (syn_options) {
    // RFC 7323 2.2: the window in a SYN is never scaled.
    s.window =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(t.rcv_buf_cap, kMaxUnscaledWindow));
    if (t.state == State::kSynReceived) t.rcv_adv = t.rcv_nxt + s.window;
    const bool active = t.state == State::kSynSent;
    s.options.mss = t.options.max_seg != 0 ? t.options.max_seg : config_.mss;
    // A SYN offers what we support; a SYN,ACK only what the peer offered too.
    if (config_.sack && (active || t.sack_permitted)) s.options.sack_permitted = true;
    if (config_.timestamps && (active || t.timestamps)) {
      s.options.timestamps = Timestamps{ts_now(t), active ? 0 : t.ts_recent};
    }
    if (active || t.wscale_ok) s.options.wscale = t.rcv_wscale;
  } else {
    s.window = advertised_window(t);
    if (t.timestamps) s.options.timestamps = Timestamps{ts_now(t), t.ts_recent};
    if (t.sack_permitted && !t.ooo.empty() && (flags & tcp_flag::kAck) != 0) {
      // RFC 2018 4: as many blocks as fit, the one with the newest segment first (three next
      // to timestamps, four without).
      std::array<SackBlock, 4> blocks{};
      const std::size_t n = t.ooo.sack_blocks(blocks.data(), t.timestamps ? 3 : 4);
      s.options.sack.assign(blocks.begin(), blocks.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  emit_packet(s, payload);
  ++t.segs_out;
  ++counters_.packets_out;
}

void Engine::send_syn(Tcb& t) {
  const std::uint8_t flags =
      t.state == State::kSynSent ? tcp_flag::kSyn : tcp_flag::kSyn | tcp_flag::kAck;
  emit(t, flags, t.iss, {}, /*syn_options=*/true);
}

void Engine::send_ack(Tcb& t) {
  // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, SND.NXT being the highest sequence number sent: after
  // a timeout rewinds our retransmission point, the peer may already hold more than that, and
  // an ACK with an older sequence number would be unacceptable to it (and so lost).
  emit(t, tcp_flag::kAck, t.snd_max, {}, false);
}

void Engine::schedule_ack(Tcb& t, bool full_segment) {
  if (full_segment) ++t.unacked_full_segments;
  // SHLD-19: acknowledge at least every second full-sized segment; MUST-40: never wait 0.5 s.
  if (config_.delayed_ack.count() == 0 || t.unacked_full_segments >= 2) {
    send_ack(t);
    return;
  }
  if (!t.delack_deadline) t.delack_deadline = now_ + config_.delayed_ack;
}

void Engine::send_rst(Tcb& t) {
  // RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>, SND.NXT being the highest
  // sequence number sent (a timeout may have rewound ours). Like Linux, the RST also carries ACK of
  // RCV.NXT once the peer's ISN is known, which any receiver accepts.
  const bool synced = t.state != State::kSynSent;
  emit(t, synced ? tcp_flag::kRst | tcp_flag::kAck : tcp_flag::kRst, t.snd_max, {}, false);
  ++counters_.resets_sent;
}

void Engine::send_rst_for(const Segment& seg) {
  // RFC 9293 3.10.7.1: never answer a RST with a RST; otherwise
  //   ACK set:   <SEQ=SEG.ACK><CTL=RST>
  //   ACK clear: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
  if (seg.has(tcp_flag::kRst)) return;
  Segment r;
  r.src_addr = seg.dst_addr;
  r.dst_addr = seg.src_addr;
  // A reply to a segment, not something a connection sends: as Linux (tcp_v4_send_reset), it
  // takes the DS field of the segment it answers (ECN bits clear) and the default TTL.
  r.tos = static_cast<std::uint8_t>(seg.tos & ~kEcnMask);
  r.ttl = config_.default_ttl;
  r.src_port = seg.dst_port;
  r.dst_port = seg.src_port;
  if (seg.has(tcp_flag::kAck)) {
    r.seq = seg.ack;
    r.flags = tcp_flag::kRst;
  } else {
    r.seq = SeqNum(0);
    r.ack = seg.seq + seg.seg_len();
    r.flags = tcp_flag::kRst | tcp_flag::kAck;
  }
  emit_packet(r, r.payload);
  ++counters_.packets_out;
  ++counters_.resets_sent;
}

bool Engine::may_send_now(const Tcb& t, std::uint32_t len, std::uint32_t unsent, bool fin) const {
  // RFC 9293 3.8.6.2.1, sender SWS avoidance (MUST-38), with Nagle's algorithm (3.7.4, SHLD-7):
  // send (1) a full-sized segment, or (2) all that is queued, or (3) at least half the largest
  // window the peer has offered, (2) and (3) only when Nagle allows. Nagle here is Minshall's
  // variant, which RFC 9293 3.7.4 mentions and Linux uses: a short segment waits only while an
  // earlier short segment is unacknowledged, so a write's tail goes out with its head. The final
  // segment with the FIN is never held back (as Linux). The override timeout (4) is the persist
  // timer's (on_persist_timeout).
  if (len >= t.snd_mss || fin) return true;
  if (len == 0) return false;
  const bool short_unacked = t.snd_sml.after(t.snd_una);
  if (short_unacked && !t.options.nodelay) return false;
  return len == unsent || len >= t.max_snd_wnd / 2;
}

void Engine::restart_after_idle(Tcb& t) {
  // RFC 5681 4.1: "TCP SHOULD set cwnd to no more than RW before beginning transmission if the
  // TCP has not sent data in an interval exceeding the retransmission timeout", RW being
  // min(IW, cwnd). Only with nothing in flight: otherwise ACKs are still clocking data out.
  if (!config_.slow_start_after_idle || t.cc == nullptr || !t.last_data_sent ||
      t.snd_una != t.snd_max || now_ - *t.last_data_sent <= t.rto) {
    return;
  }
  const std::uint32_t iw = std::max<std::uint32_t>(config_.initial_cwnd_segments, 2) * t.snd_mss;
  if (t.cong.cwnd > iw) {
    t.cong.cwnd = iw;
    ++counters_.idle_restarts;
  }
}

void Engine::output(Tcb& t) { output(t, false); }

void Engine::output(Tcb& t, bool force) {
  // Data and FIN flow only once the connection is synchronized and until our FIN is out.
  if (!in_state(t.state, State::kEstablished | State::kCloseWait | State::kFinWait1 |
                             State::kClosing | State::kLastAck)) {
    return;
  }
  restart_after_idle(t);
  for (;;) {
    const SeqNum data_end = t.fin_seq();
    const std::uint32_t unsent = data_end.after(t.snd_nxt) ? distance(t.snd_nxt, data_end) : 0;
    const bool fin_pending = t.fin_queued && t.snd_nxt.before_eq(data_end);
    if (unsent == 0 && !fin_pending) break;
    // The usable window (RFC 5681 2): the smaller of the peer's window and cwnd, less what is in
    // flight. Bytes between SND.NXT and SND.MAX after a timeout rewound SND.NXT count as lost.
    // In SACK-based recovery (RFC 6675 5) cwnd is weighed against the pipe estimate instead.
    const std::uint32_t in_flight = distance(t.snd_una, t.snd_nxt);
    const std::uint32_t pipe = t.in_recovery && t.sack_permitted
                                   ? t.scoreboard.pipe(t.snd_una, t.snd_max, t.high_rxt, t.snd_mss)
                                   : in_flight;
    const std::uint32_t wnd_room = t.snd_wnd > in_flight ? t.snd_wnd - in_flight : 0;
    const std::uint32_t cwnd_room = t.cong.cwnd > pipe ? t.cong.cwnd - pipe : 0;
    const std::uint32_t room = std::min(wnd_room, cwnd_room);
    const std::uint32_t len = std::min({unsent, std::uint32_t{t.snd_mss}, room});
    // The FIN goes with (or after) the last byte of data; it needs no window of its own.
    const bool fin = fin_pending && t.snd_nxt + len == data_end;
    if (len == 0 && !fin) break;
    const bool retransmission = t.snd_nxt.before(t.snd_max);
    if (!retransmission && !force && !may_send_now(t, len, unsent, fin)) break;
    force = false;
    std::uint8_t flags = tcp_flag::kAck;
    if (len > 0 && len == unsent) flags |= tcp_flag::kPsh;
    if (fin) flags |= tcp_flag::kFin;
    emit(t, flags, t.snd_nxt, t.send_buf.view(distance(t.send_buf_seq, t.snd_nxt), len), false);
    if (len > 0) t.last_data_sent = now_;
    if (retransmission) {
      ++t.retransmitted_segs;
      ++counters_.retransmits;
      const SeqNum end = t.snd_nxt + len + (fin ? 1U : 0U);
      if (!t.rtx_mark || end.after(*t.rtx_mark)) t.rtx_mark = end;
    } else if (!t.rtt_seq && !t.timestamps) {
      // Time this segment (RFC 6298 3): one measurement in flight at a time.
      t.rtt_seq = t.snd_nxt + len + (fin ? 1U : 0U);
      t.rtt_start = now_;
    }
    t.snd_nxt += len + (fin ? 1U : 0U);
    if (len < t.snd_mss) t.snd_sml = t.snd_nxt;  // Minshall: the end of the last short segment
    if (t.snd_nxt.after(t.snd_max)) t.snd_max = t.snd_nxt;
    if (!t.rtx_deadline) {
      t.rtx_since = now_;
      arm_rtx(t);
    }
    if (fin) break;
  }
  // Something to send and nothing in flight whose ACK would bring us back here: the persist
  // timer probes a zero window and overrides SWS avoidance (RFC 9293 3.8.6.1, 3.8.6.2.1 (4)).
  const bool outstanding = t.snd_una.before(t.snd_max);
  const bool waiting = t.fin_seq().after(t.snd_nxt) || (t.fin_queued && !t.fin_sent());
  if (outstanding || !waiting) {
    t.persist_deadline.reset();
    if (outstanding) t.persist_backoff = 0;
  } else if (!t.persist_deadline) {
    arm_persist(t);
  }
}

std::uint32_t Engine::resend(Tcb& t, SeqNum seq, std::uint32_t max_len) {
  // Only bytes sent before go again: the window may never have let the rest out.
  const SeqNum sent_end = t.fin_sent() ? t.fin_seq() : t.snd_max;
  const std::uint32_t sent_data = sent_end.after(seq) ? distance(seq, sent_end) : 0;
  const std::uint32_t len = std::min(sent_data, max_len);
  const bool fin = t.fin_sent() && seq + len == t.fin_seq();
  if (len == 0 && !fin) return 0;
  std::uint8_t flags = tcp_flag::kAck;
  if (fin) flags |= tcp_flag::kFin;
  if (len > 0 && len == sent_data) flags |= tcp_flag::kPsh;
  std::uint32_t from = distance(t.send_buf_seq, seq);
  if (planted::on(planted::Bug::kRetransmitShiftedBytes) && len > 0 &&
      from + len < t.send_buf.size()) {
    ++from;
  }
  emit(t, flags, seq, t.send_buf.view(from, len), false);
  ++t.retransmitted_segs;
  ++counters_.retransmits;
  t.rtt_seq.reset();  // Karn's algorithm (RFC 6298 3, MUST-18)
  const SeqNum end = seq + len + (fin ? 1U : 0U);
  if (!t.rtx_mark || end.after(*t.rtx_mark)) t.rtx_mark = end;
  if (end.after(t.snd_nxt)) t.snd_nxt = end;
  return len + (fin ? 1U : 0U);
}

void Engine::retransmit_head(Tcb& t) {
  // RFC 9293 3.10.8: send the segment at the front of the retransmission queue again.
  // The SYN (or SYN,ACK) heads the queue until it is acknowledged, also in FIN-WAIT-1 after a
  // CLOSE in SYN-RECEIVED.
  if (in_state(t.state, State::kSynSent | State::kSynReceived) || !t.syn_acked()) {
    ++t.retransmitted_segs;
    ++counters_.retransmits;
    t.syn_retransmitted = true;
    t.rtt_seq.reset();
    send_syn(t);
    return;
  }
  resend(t, t.snd_una, t.snd_mss);
}

void Engine::arm_persist(Tcb& t) {
  // Exponential backoff from the RTO, bounded by the maximum RTO (as Linux's probe timer).
  Duration interval = base_rto(t);
  for (int i = 0; i < t.persist_backoff && interval < config_.max_rto; ++i) interval *= 2;
  t.persist_deadline = now_ + std::min(interval, config_.max_rto);
}

}  // namespace synack::stack
