// SEGMENT ARRIVES for a connection that exists: SYN-SENT (RFC 9293 3.10.7.3) and the other
// states (3.10.7.4), step by step, with RFC 5961's checks against blind attacks and RFC 1337's
// protection of TIME-WAIT. A segment for no connection and no listener is answered by
// closed_arrives (3.10.7.1).
#include <algorithm>

#include "stack/planted.h"
#include "stack/tcp/engine.h"

namespace synack::stack {
namespace {

constexpr std::uint16_t kDefaultMss = 536;           // RFC 9293 3.7.1 (MUST-15)
constexpr std::uint32_t kTimestampOptionBytes = 12;  // nop, nop, TS on every segment
constexpr std::uint8_t kMaxWindowShift = 14;         // RFC 7323 2.3

}  // namespace

void Engine::closed_arrives(const Segment& seg) {
  // RFC 9293 3.10.7.1: no TCB and no listener. Answer anything but a RST with a RST.
  send_rst_for(seg);
}

void Engine::negotiate_options(Tcb& t, const Segment& syn) {
  const TcpOptions& o = syn.options;
  t.peer_mss = o.mss.value_or(kDefaultMss);
  const std::uint16_t ours = t.options.max_seg != 0 ? t.options.max_seg : config_.mss;
  // RFC 7323 2.2: window scaling only when both SYNs carry the option; the peer's shift is
  // capped at 14 (2.3). A SYN,ACK carries it only if our SYN did (we always offer it).
  t.wscale_ok = o.wscale.has_value();
  t.snd_wscale = t.wscale_ok ? std::min(*o.wscale, kMaxWindowShift) : 0;
  t.rcv_wscale = t.wscale_ok ? config_.wscale : 0;
  t.timestamps = config_.timestamps && o.timestamps.has_value();
  if (t.timestamps) {
    t.ts_recent = o.timestamps->val;
    t.ts_recent_at = now_;
  }
  t.sack_permitted = config_.sack && o.sack_permitted;
  // The payload we send: the peer's MSS (MUST-16: its MSS option bounds what it receives), our
  // own limit, less the timestamp option that rides on every segment (RFC 6691).
  const std::uint16_t mss = std::min(t.peer_mss, ours);
  t.snd_mss = static_cast<std::uint16_t>(
      t.timestamps && mss > kTimestampOptionBytes + 1 ? mss - kTimestampOptionBytes : mss);
}

void Engine::update_ts_recent(Tcb& t, const Segment& seg) {
  // RFC 7323 4.3: TS.Recent follows the TSval of segments covering Last.ACK.sent.
  if (!t.timestamps || !seg.options.timestamps) return;
  if (seg.seq.before_eq(t.last_ack_sent) &&
      static_cast<std::int32_t>(seg.options.timestamps->val - t.ts_recent) >= 0) {
    t.ts_recent = seg.options.timestamps->val;
    t.ts_recent_at = now_;
  }
}

bool Engine::paws_rejects(Tcb& t, const Segment& seg) {
  // RFC 7323 5.3 R1: with timestamps in use, a segment (other than a RST) whose TSval is older
  // than TS.Recent is an old duplicate: not acceptable. R3 of 5.5: a TS.Recent idle for more
  // than 24 days is no longer valid, and the segment is accepted.
  constexpr Duration kTsRecentLifetime = std::chrono::hours(24 * 24);
  if (!t.timestamps || !seg.options.timestamps || seg.has(tcp_flag::kRst)) return false;
  if (static_cast<std::int32_t>(seg.options.timestamps->val - t.ts_recent) >= 0) return false;
  if (now_ - t.ts_recent_at > kTsRecentLifetime) {
    t.ts_recent = seg.options.timestamps->val;
    t.ts_recent_at = now_;
    return false;
  }
  ++counters_.paws_rejected;
  return true;
}

void Engine::ack_rtt(Tcb& t, const Segment& seg, bool covers_retransmission) {
  // RFC 7323 4.1: with timestamps the echoed TSval times the segment the ACK answers; without,
  // only the one timed segment counts, and Karn's algorithm (RFC 6298 3, MUST-18) has already
  // dropped the timing if anything was retransmitted. An ACK that covers retransmitted data
  // gives no timestamp sample either: if the peer already held that data (our ACK was lost),
  // it echoes the TSval of a segment from long ago (RFC 7323 4.3), and the "RTT" would be the
  // whole outage, inflating SRTT and the RTO for many round trips.
  if (covers_retransmission) {
    t.rtt_seq.reset();
    return;
  }
  if (t.timestamps && seg.options.timestamps && seg.options.timestamps->ecr != 0) {
    const std::uint32_t ms = ts_now(t) - seg.options.timestamps->ecr;
    if (ms < (1U << 31)) rtt_sample(t, std::chrono::milliseconds(ms));
    t.rtt_seq.reset();
    return;
  }
  if (t.rtt_seq && seg.ack.after_eq(*t.rtt_seq)) {
    rtt_sample(t, now_ - t.rtt_start);
    t.rtt_seq.reset();
  }
}

void Engine::established(Tcb& t) {
  t.rtx_deadline.reset();
  t.retransmits = 0;
  t.rto = base_rto(t);
  t.cc = &newreno();
  t.cc->init(t.cong, t.snd_mss, config_.initial_cwnd_segments);
  t.recover = t.snd_una;
  t.high_rxt = t.snd_una;
  t.snd_sml = t.snd_una;
  restart_keepalive(t);
}

void Engine::challenge_ack(Tcb& t) {
  // RFC 5961 3.2 / 4.2, rate-limited as section 7 allows: at most challenge_ack_limit per
  // second across the stack.
  if (challenge_period_start_.count() < 0 || now_ - challenge_period_start_ >= 1s) {
    challenge_period_start_ = now_;
    challenge_acks_in_period_ = 0;
  }
  if (challenge_acks_in_period_ >= config_.challenge_ack_limit) {
    ++counters_.challenge_acks_suppressed;
    return;
  }
  ++challenge_acks_in_period_;
  ++counters_.challenge_acks;
  send_ack(t);
}

void Engine::send_oow_ack(Tcb& t, const Segment& seg) {
  // The ACK owed to an unacceptable segment (RFC 9293 3.10.7.4 first step, RFC 7323 5.3 R1,
  // RFC 5961 5.2). A segment without data or SYN gets at most one per invalid_ack_interval:
  // two stacks that each find the other's pure ACKs unacceptable would otherwise answer each
  // other forever (an "ACK war"; RFC 5961 10 asks for such rate limits; Linux's
  // tcp_invalid_ratelimit). Data always gets its duplicate ACK: the peer may have lost ours.
  const bool pure = seg.payload.empty() && !seg.has(tcp_flag::kSyn);
  if (pure && t.last_oow_ack && now_ - *t.last_oow_ack < config_.invalid_ack_interval) {
    ++counters_.oow_acks_suppressed;
    return;
  }
  if (pure) t.last_oow_ack = now_;
  send_ack(t);
}

bool Engine::acceptable(const Tcb& t, const Segment& seg) const {
  // RFC 9293 3.10.7.4, first step, table 6, with one relaxation Linux also makes: a segment
  // without data may sit exactly at the right edge, RCV.NXT + RCV.WND. The peer's pure ACKs
  // carry SEG.SEQ = its SND.NXT, which is exactly there once it has filled our window; the
  // strict test would drop their acknowledgments and window updates until a hole fills.
  const std::uint32_t len = seg.seg_len();
  const std::uint32_t wnd = t.rcv_wnd();
  // Not for a RST, though: RFC 5961 3.2 drops one outside [RCV.NXT, RCV.NXT + RCV.WND) silently.
  if (len == 0) {
    return seg.seq.in_window(t.rcv_nxt, seg.has(tcp_flag::kRst) && wnd > 0 ? wnd : wnd + 1);
  }
  if (wnd == 0) {
    // MUST-66: with a zero window, RSTs and ACKs must still be processed; a segment at
    // RCV.NXT gets through this test and its text is trimmed away later.
    return seg.seq == t.rcv_nxt;
  }
  return seg.seq.in_window(t.rcv_nxt, wnd) || (seg.seq + len - 1).in_window(t.rcv_nxt, wnd);
}

void Engine::syn_sent_arrives(Tcb& t, const Segment& seg) {
  // First, check the ACK bit.
  bool ack_ok = false;
  if (seg.has(tcp_flag::kAck)) {
    if (seg.ack.before_eq(t.iss) || seg.ack.after(t.snd_nxt)) {
      send_rst_for(seg);  // <SEQ=SEG.ACK><CTL=RST>, unless it is a RST itself
      return;
    }
    ack_ok = true;  // SND.UNA < SEG.ACK =< SND.NXT
  }
  // Second, check the RST bit: only a RST whose ACK acknowledges our SYN is believed.
  if (seg.has(tcp_flag::kRst)) {
    ++counters_.resets_received;
    if (ack_ok) delete_tcb(t, ECONNREFUSED);
    return;
  }
  // (Third, security: no compartments here.) Fourth, check the SYN bit.
  if (!seg.has(tcp_flag::kSyn)) return;  // fifth: neither SYN nor RST
  t.irs = seg.seq;
  t.rcv_nxt = seg.seq + 1;
  negotiate_options(t, seg);
  update_ts_recent(t, seg);
  t.rcv_adv = t.rcv_nxt;  // set properly by the first window we advertise
  // The window of a SYN is never scaled (RFC 7323 2.2).
  t.snd_wnd = seg.window;
  t.max_snd_wnd = t.snd_wnd;
  t.snd_wl1 = seg.seq;
  t.snd_wl2 = seg.ack;
  if (ack_ok) {
    t.snd_una = seg.ack;
    t.soft_error = 0;  // the peer answered: whatever an ICMP message said no longer holds
    ack_rtt(t, seg, t.syn_retransmitted);
  }
  // Text on a SYN is not taken (see user_calls.cc: the peer retransmits it once we are
  // established, as it would for a Linux host without TCP Fast Open).
  if (t.syn_acked()) {
    transition(t, State::kEstablished);
    ++counters_.connections_established;
    established(t);
    send_ack(t);
    output(t);  // data written while connecting
    return;
  }
  // Simultaneous open (MUST-10): SYN-SENT -> SYN-RECEIVED, and our SYN becomes a SYN,ACK.
  transition(t, State::kSynReceived);
  send_syn(t);
}

void Engine::segment_arrives(Tcb& t, const Segment& seg) {
  if (t.state == State::kSynSent) {
    syn_sent_arrives(t, seg);
    return;
  }
  Incoming in{seg.seq, seg.flags, seg.payload};

  if (t.state == State::kSynReceived && seg.has(tcp_flag::kSyn) && seg.seq == t.irs) {
    if (!seg.has(tcp_flag::kAck)) {
      // The peer's SYN again: our SYN,ACK was lost. Answer it at once (as Linux does) rather
      // than with the bare ACK of the first step, which a SYN-SENT peer would drop.
      if (!seg.has(tcp_flag::kRst)) send_syn(t);
      return;
    }
    // A SYN,ACK in an active SYN-RECEIVED (simultaneous open, RFC 9293 figure 8): the SYN lies
    // before the window; trim it (3.10.7.4, first step) and go on with the ACK. A passive
    // SYN-RECEIVED never sent a SYN this SYN,ACK could answer: the segment lies wholly below
    // RCV.NXT, so the first check finds it unacceptable and it gets an ACK and is dropped
    // (as Linux 6.18 does; the connection does not open).
    if (!t.passive_open) {
      in.seq = seg.seq + 1;
      in.flags = static_cast<std::uint8_t>(in.flags & ~tcp_flag::kSyn);
    }
  }

  if (t.state == State::kTimeWait && seg.has(tcp_flag::kSyn) &&
      !seg.has(tcp_flag::kAck | tcp_flag::kRst) && seg.seq.after(t.rcv_nxt) &&
      listeners_.count(t.tuple.local_port) != 0) {
    // MAY-2: a SYN beyond the old connection's sequence space may reopen it from TIME-WAIT
    // (as Linux does; RFC 6191 with sequence numbers). The old incarnation goes; the listener
    // takes the SYN.
    delete_tcb(t, 0);  // `seg` belongs to the caller, not to t
    on_segment(seg);
    return;
  }

  // PAWS (RFC 7323 5.3) comes before the sequence number check: an old duplicate whose
  // sequence number happens to look fresh after wrap-around is still old.
  if (in_state(t.state, kSynchronized) && paws_rejects(t, seg)) {
    send_oow_ack(t, seg);  // R1: "send an acknowledgment in reply" and drop it
    return;
  }

  // First, check the sequence number.
  Segment view_for_test;
  const bool trimmed_syn = in.seq != seg.seq;
  bool ok = false;
  if (trimmed_syn) {
    view_for_test.seq = in.seq;
    view_for_test.flags = in.flags;
    view_for_test.payload.assign(in.payload.begin(), in.payload.end());
    ok = acceptable(t, view_for_test);
  } else {
    ok = acceptable(t, seg);
  }
  if (!ok) {
    if (!seg.has(tcp_flag::kRst)) {
      // TIME-WAIT: a retransmitted FIN is acknowledged and restarts the 2*MSL wait.
      if (t.state == State::kTimeWait && seg.has(tcp_flag::kFin)) {
        enter_time_wait(t);
        send_ack(t);
      } else {
        send_oow_ack(t, seg);
      }
    }
    return;
  }
  update_ts_recent(t, seg);
  if (in_state(t.state, kSynchronized)) restart_keepalive(t);  // any segment proves liveness

  // Second, check the RST bit (RFC 5961 3.2): only an exact RST resets; an in-window one gets a
  // challenge ACK.
  if (in.has(tcp_flag::kRst)) {
    ++counters_.resets_received;
    if (in.seq != t.rcv_nxt && !planted::on(planted::Bug::kRstAnywhereInWindow)) {
      challenge_ack(t);
      return;
    }
    switch (t.state) {
      case State::kSynReceived:
        if (t.passive_open) {
          // MUST-11: a passive open returns to LISTEN; the listener itself is untouched, so
          // this half-open connection simply disappears from its SYN queue.
          transition(t, State::kListen);
          delete_tcb(t, 0);
        } else {
          delete_tcb(t, ECONNREFUSED);
        }
        return;
      case State::kEstablished:
      case State::kFinWait1:
      case State::kFinWait2:
      case State::kCloseWait:
        delete_tcb(t, ECONNRESET);  // MUST-12: the application is told
        return;
      case State::kClosing:
      case State::kLastAck:
        delete_tcb(t, 0);
        return;
      default:
        // TIME-WAIT: RFC 1337, a RST must not assassinate TIME-WAIT (a deviation from RFC
        // 9293's "enter CLOSED", as Linux with tcp_rfc1337 set): drop it.
        return;
    }
  }

  // Fourth, check the SYN bit (RFC 5961 4.2): any SYN here gets a challenge ACK.
  if (in.has(tcp_flag::kSyn)) {
    if (t.state == State::kSynReceived && t.passive_open) {
      // A different SYN inside the window: RFC 9293 returns the connection to LISTEN.
      transition(t, State::kListen);
      delete_tcb(t, 0);
      return;
    }
    challenge_ack(t);
    return;
  }

  // Fifth, check the ACK field.
  if (!in.has(tcp_flag::kAck)) return;
  Segment ack_view;  // the segment as trimmed, without its text; addressed as the original
  ack_view.src_addr = seg.src_addr;
  ack_view.dst_addr = seg.dst_addr;
  ack_view.src_port = seg.src_port;
  ack_view.dst_port = seg.dst_port;
  ack_view.seq = in.seq;
  ack_view.ack = seg.ack;
  ack_view.window = seg.window;
  ack_view.flags = in.flags;
  ack_view.urgent_pointer = seg.urgent_pointer;
  ack_view.options = seg.options;  // timestamps for RTT, SACK blocks for the scoreboard
  bool done = false;
  // The window of a SYN segment is never scaled (RFC 7323 2.2), though its SYN was trimmed
  // from the view: a simultaneous open's SYN,ACK completing the handshake in SYN-RECEIVED.
  const std::uint8_t window_shift = seg.has(tcp_flag::kSyn) ? 0 : t.snd_wscale;
  process_ack(t, ack_view, static_cast<std::uint32_t>(in.payload.size()), window_shift, done);
  if (done) return;

  // Sixth, check the URG bit (RFC 9293 3.10.7.4; MUST-30, MUST-31, MUST-62; RFC 6093): the
  // urgent pointer points at the octet after the urgent data and may lie beyond what has
  // arrived. RCV.UP only moves forward; the data itself stays in line (RFC 6093 recommends
  // exactly that) and the application learns of it through POLLPRI and urgent_bytes()
  // (MUST-32, MUST-33). A zero window does not stop this (MUST-66).
  if (in.has(tcp_flag::kUrg) &&
      in_state(t.state, State::kEstablished | State::kFinWait1 | State::kFinWait2)) {
    const SeqNum up = seg.seq + seg.urgent_pointer;
    if (!t.rcv_up || up.after(*t.rcv_up)) t.rcv_up = up;
  }

  // Seventh: the text. After close() nothing can read it: new data for a connection the
  // application has closed is answered with a RST, and the connection ends (RFC 9293 3.6.1
  // SHLD-3, RFC 1122 4.2.2.13; Linux does the same, "data after close").
  if (in_state(t.state, State::kFinWait1 | State::kFinWait2) && t.owner == -1 &&
      !in.payload.empty() &&
      (in.seq + static_cast<std::uint32_t>(in.payload.size())).after(t.rcv_nxt)) {
    ++counters_.data_after_close_resets;
    send_rst_for(seg);  // <SEQ=SEG.ACK><CTL=RST>
    delete_tcb(t, 0);
    return;
  }

  // Seventh and eighth: the text and the FIN.
  process_text_and_fin(t, in);
}

void Engine::process_ack(Tcb& t, const Segment& seg, std::uint32_t text_len,
                         std::uint8_t window_shift, bool& done) {
  // SYN-RECEIVED, or FIN-WAIT-1 entered from it by a CLOSE (RFC 9293 3.10.4) before the SYN
  // was acknowledged: this ACK must acknowledge the SYN, and synchronizes the connection.
  const bool syn_unacked = t.state == State::kFinWait1 && !t.syn_acked();
  if (t.state == State::kSynReceived || syn_unacked) {
    if (!(t.snd_una.before(seg.ack) && seg.ack.before_eq(t.snd_nxt))) {
      send_rst_for(seg);  // <SEQ=SEG.ACK><CTL=RST>
      done = true;        // the segment is dropped (the connection stays)
      return;
    }
    if (t.passive_open && !enter_accept_queue(t)) {
      ++counters_.accept_queue_drops;
      if (config_.accept_overflow == AcceptOverflow::kReset) {
        send_rst_for(seg);
        transition(t, State::kListen);
        delete_tcb(t, 0);
      }
      // kDrop: ignore the ACK; the SYN,ACK timer keeps running and the peer will retry.
      done = true;
      return;
    }
    if (!syn_unacked) transition(t, State::kEstablished);
    ++counters_.connections_established;
    // In FIN-WAIT-1 only the SYN's share is taken here; the FIN's is an ordinary ACK below.
    t.snd_una = syn_unacked ? t.iss + 1 : seg.ack;
    t.snd_wnd = std::uint32_t{seg.window} << window_shift;
    t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
    t.snd_wl1 = seg.seq;
    t.snd_wl2 = seg.ack;
    ack_rtt(t, seg, t.syn_retransmitted);
    established(t);
    if (t.snd_una.before(t.snd_max)) arm_rtx(t);
    if (t.fin_queued && !syn_unacked) {
      // CLOSE was called in SYN-RECEIVED with data pending: the FIN goes now.
      transition(t, State::kFinWait1);
    }
  }

  // RFC 5961 5.2: an ACK is acceptable only within [SND.UNA - MAX.SND.WND, SND.NXT]. SND.NXT
  // there is the highest sequence number sent (SND.MAX): after a timeout rewinds SND.NXT, the
  // peer may still acknowledge everything it had received.
  const SeqNum ack_limit = t.snd_max + (planted::on(planted::Bug::kAckBeyondSndMax) ? 1 : 0);
  if (seg.ack.after(ack_limit) || seg.ack.before(t.snd_una - t.max_snd_wnd)) {
    send_oow_ack(t, seg);
    done = true;
    return;
  }
  t.persist_unanswered = 0;  // the peer is there (MUST-37: probes answered keep it open)
  t.soft_error = 0;  // and an earlier ICMP soft error is stale (Linux clears sk_err_soft here)
  if (t.sack_permitted) {
    // RFC 6675 / RFC 2018: record what the peer holds beyond SEG.ACK; the cumulative ACK
    // trims the board first.
    t.scoreboard.update(t.snd_una.after(seg.ack) ? t.snd_una : seg.ack, t.snd_max,
                        seg.options.sack);
  }
  if (t.snd_una.before(seg.ack)) {
    // New data (or our FIN) acknowledged: drop it from the retransmission queue.
    const std::uint32_t acked = distance(t.snd_una, seg.ack);
    const std::uint32_t acked_bytes = std::min<std::uint32_t>(
        distance(t.send_buf_seq, seg.ack), static_cast<std::uint32_t>(t.send_buf.size()));
    t.send_buf.consume(acked_bytes);
    t.send_buf_seq += acked_bytes;
    const bool covers_retransmission = t.rtx_mark && t.snd_una.before(*t.rtx_mark);
    t.snd_una = seg.ack;
    if (t.snd_nxt.before(t.snd_una)) t.snd_nxt = t.snd_una;
    if (t.rtx_mark && !t.snd_una.before(*t.rtx_mark)) t.rtx_mark.reset();
    ack_rtt(t, seg, covers_retransmission);
    on_new_ack(t, seg, acked);
    // RFC 6298 5.3: restart the timer. The backed-off RTO stays until a new RTT sample (the
    // second half of Karn's algorithm, RFC 6298 5 note; ack_rtt's rtt_sample resets it), as
    // Linux resets its backoff only on a valid measurement; the retry count starts again.
    t.retransmits = 0;
    t.rtx_deadline.reset();
    t.rtx_since = now_;
    if (t.snd_una.before(t.snd_max)) arm_rtx(t);
  } else if (seg.ack == t.snd_una && text_len == 0 && !seg.has(tcp_flag::kSyn | tcp_flag::kFin) &&
             t.snd_una.before(t.snd_max) &&
             (std::uint32_t{seg.window} << window_shift) == t.snd_wnd) {
    on_duplicate_ack(t);  // RFC 5681 2, the definition of a duplicate ACK
  }
  // Window update (RFC 9293 3.10.7.4, fifth step): only when SND.UNA =< SEG.ACK, and guarded by
  // SND.WL1 / SND.WL2 against old segments. (An ACK below SND.UNA is still acceptable under
  // RFC 5961 5.2, but its window is stale.)
  if (t.snd_una.before_eq(seg.ack) &&
      (t.snd_wl1.before(seg.seq) || (t.snd_wl1 == seg.seq && t.snd_wl2.before_eq(seg.ack)))) {
    t.snd_wnd = std::uint32_t{seg.window} << window_shift;
    t.max_snd_wnd = std::max(t.max_snd_wnd, t.snd_wnd);
    t.snd_wl1 = seg.seq;
    t.snd_wl2 = seg.ack;
  }

  switch (t.state) {
    case State::kFinWait1:
      if (t.fin_acked()) {
        transition(t, State::kFinWait2);
        // An orphan cannot wait forever for the peer's FIN (Linux tcp_fin_timeout).
        if (t.owner < 0) t.fin_wait2_deadline = now_ + config_.fin_timeout;
      }
      break;
    case State::kClosing:
      if (t.fin_acked()) {
        enter_time_wait(t);
      } else {
        done = true;  // otherwise, ignore the segment (but send what the ACK let out)
        output(t);
      }
      return;
    case State::kLastAck:
      if (t.fin_acked()) {
        delete_tcb(t, 0);
        done = true;
        return;
      }
      break;  // data still queued before our FIN: the ACK may let more out
    default:
      break;
  }
  output(t);  // the ACK may have opened the window
  sack_retransmit_holes(t);
}

void Engine::process_text_and_fin(Tcb& t, const Incoming& seg) {
  if (!in_state(t.state, State::kEstablished | State::kFinWait1 | State::kFinWait2)) {
    return;  // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer already sent its FIN
  }
  if (seg.seq.after(t.rcv_nxt)) {
    // Beyond RCV.NXT: out of order. Queue what lies in the window (SHLD-31) and answer at once
    // with a duplicate ACK (RFC 5681 4.2 SHOULD; RFC 9293 MAY-13), carrying SACK blocks with
    // the newest first (RFC 2018 4).
    if (!seg.payload.empty() || seg.has(tcp_flag::kFin)) {
      t.ooo.insert(t.rcv_nxt, t.rcv_adv, seg.seq, seg.payload, seg.has(tcp_flag::kFin));
      ++counters_.ooo_segments;
      send_ack(t);
    }
    return;
  }
  // Trim what we already have; keep what fits the window.
  const std::uint32_t skip = distance(seg.seq, t.rcv_nxt);
  const auto have = static_cast<std::uint32_t>(seg.payload.size());
  std::uint32_t take = 0;
  if (skip < have) {
    take =
        std::min(have - skip, t.rcv_wnd() + (planted::on(planted::Bug::kWindowOffByOne) ? 1 : 0));
  }
  // The FIN takes a sequence number too (RFC 9293 3.4): beyond a full window it is trimmed
  // like text, and the peer sends it again once there is room.
  bool fin_here =
      seg.has(tcp_flag::kFin) && skip <= have && skip + take == have && take < t.rcv_wnd();
  const bool filled_gap = !t.ooo.empty() && take > 0;
  if (take > 0) {
    t.recv_buf.append(std::span<const std::uint8_t>(seg.payload).subspan(skip, take));
    t.rcv_nxt += take;
    // What was queued out of order and now follows on joins the stream (and may hold the FIN).
    if (!t.ooo.empty() && !fin_here) {
      bool ooo_fin = false;
      t.ooo.take_in_order(t.rcv_nxt, t.recv_buf, ooo_fin);
      if (ooo_fin) {
        t.rcv_nxt = t.rcv_nxt - 1;  // the FIN is processed below, as if it came now
        fin_here = true;
      }
    }
  }
  if (fin_here) {
    t.ooo.clear();  // nothing follows a FIN
    // Eighth, the FIN: advance RCV.NXT over it, acknowledge, and tell the user.
    t.rcv_nxt += 1;
    t.fin_received = true;
    switch (t.state) {
      case State::kEstablished:
        transition(t, State::kCloseWait);
        break;
      case State::kFinWait1:
        if (t.fin_acked()) {
          enter_time_wait(t);
        } else {
          transition(t, State::kClosing);
        }
        break;
      case State::kFinWait2:
        enter_time_wait(t);
        break;
      default:
        break;
    }
    // In CLOSE-WAIT the ACK may wait for the application's reply (the "three-way close":
    // close() at once puts our FIN on the same segment), never longer than the delayed-ACK
    // timeout. Once our own FIN is out nothing else will come: acknowledge at once.
    if (t.state == State::kCloseWait && !filled_gap) {
      schedule_ack(t, false);
    } else {
      send_ack(t);
    }
    return;
  }
  // RFC 5681 4.2: a segment that fills (part of) a gap is acknowledged at once; so is one that
  // brought nothing new (a duplicate, or no room): tell the peer where we are.
  if (take > 0 && !filled_gap) {
    schedule_ack(t, take >= t.snd_mss);
  } else if (filled_gap || have > 0 || seg.has(tcp_flag::kFin)) {
    send_ack(t);  // (a FIN not taken, too: a duplicate, or beyond a full window)
  }
}

}  // namespace synack::stack
