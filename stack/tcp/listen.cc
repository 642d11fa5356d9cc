// LISTEN (RFC 9293 3.10.7.2): the SYN queue of half-open connections, the accept queue of
// established ones, and SYN cookies (RFC 4987 3.6) once the SYN queue is full.
//
// Both queues are bounded by the listen() backlog (capped at max_backlog, at least 1). A SYN
// beyond a full SYN queue gets a cookie SYN,ACK and leaves no state behind; with cookies off it
// is dropped. A SYN while the accept queue is full is dropped (as Linux does), since the
// handshake could not complete into it anyway.
#include <algorithm>

#include "stack/tcp/engine.h"

namespace synack::stack {
namespace {

std::size_t queue_limit(const Listener& l) {
  return static_cast<std::size_t>(std::max(1, l.backlog));
}

// A listener checks an ACK's cookie only this long after it last sent one, as Linux does
// (TCP_SYNCOOKIE_VALID, tcp_synq_no_recent_overflow): one that has sent none lately, a new
// listener on the port say, answers every ACK with a RST instead of opening a connection from
// a cookie another listener sent, and an ACK with a guessed cookie cannot open one either.
constexpr Duration kCookieCheckWindow = std::chrono::minutes(2);

// The window a cookie SYN,ACK advertises (never scaled: it offers no window scale), from the
// listener's receive buffer as a connection spawned from the SYN would use. Completing the
// handshake from the cookie must honour the same window.
std::uint16_t cookie_window(const StackConfig& config, const SocketOptions& o) {
  const std::uint32_t buf = o.rcv_buf != 0 ? o.rcv_buf : config.rcv_buf;
  return static_cast<std::uint16_t>(std::min<std::uint32_t>(buf, 65535));
}

}  // namespace

void Engine::listen_segment_arrives(Socket& s, const Segment& seg) {
  Listener& l = *s.listener;
  // First, check for a RST: nothing this listener sent can have provoked it.
  if (seg.has(tcp_flag::kRst)) return;
  // Second, check for an ACK: it can only complete a cookie handshake; otherwise RST.
  if (seg.has(tcp_flag::kAck)) {
    if (config_.syncookies && !seg.has(tcp_flag::kSyn) && l.last_cookie_sent &&
        now_ - *l.last_cookie_sent <= kCookieCheckWindow) {
      const FourTuple tuple{seg.dst_addr, seg.dst_port, seg.src_addr, seg.src_port};
      if (check_syn_cookie(cookie_key_, tuple, (seg.seq - 1).value(), (seg.ack - 1).value(),
                           now_.count())) {
        complete_from_cookie(s, seg);
        return;
      }
      ++counters_.cookies_invalid;
    }
    send_rst_for(seg);  // <SEQ=SEG.ACK><CTL=RST>: no connection for an invalid cookie
    return;
  }
  // Third, check for a SYN.
  if (!seg.has(tcp_flag::kSyn)) return;  // fourth: anything else is dropped
  if (l.accept_queue.size() >= queue_limit(l)) {
    ++counters_.accept_queue_drops;
    return;
  }
  if (l.syn_queue.size() >= queue_limit(l)) {
    if (!config_.syncookies) {
      ++counters_.syn_queue_drops;
      return;
    }
    // RFC 4987 3.6: answer from the cookie alone, keeping nothing. The cookie encodes the MSS;
    // window scale, SACK and timestamps are not offered (there is nowhere to keep them).
    const FourTuple tuple{seg.dst_addr, seg.dst_port, seg.src_addr, seg.src_port};
    const std::uint16_t peer_mss = seg.options.mss.value_or(536);
    const std::uint32_t cookie =
        make_syn_cookie(cookie_key_, tuple, seg.seq.value(), peer_mss, now_.count());
    Segment r;
    r.src_addr = seg.dst_addr;
    r.dst_addr = seg.src_addr;
    r.src_port = seg.dst_port;
    r.dst_port = seg.src_port;
    r.seq = SeqNum(cookie);
    r.ack = seg.seq + 1;
    r.flags = tcp_flag::kSyn | tcp_flag::kAck;
    r.window = cookie_window(config_, s.options);
    r.tos = s.options.tos;  // the listener's IP_TOS and IP_TTL, as on any SYN,ACK
    r.ttl = ttl_of(s.options);
    // Our own MSS, as on any SYN,ACK (TCP_MAXSEG on the listener, else the stack's); the
    // peer's is what the cookie carries.
    r.options.mss = s.options.max_seg != 0 ? s.options.max_seg : config_.mss;
    emit_packet(r, r.payload);
    ++counters_.packets_out;
    ++counters_.cookies_sent;
    l.last_cookie_sent = now_;
    return;
  }
  spawn_from_syn(s, seg);
}

void Engine::spawn_from_syn(Socket& s, const Segment& seg) {
  const FourTuple tuple{seg.dst_addr, seg.dst_port, seg.src_addr, seg.src_port};
  Tcb& t = create_tcb(tuple);
  init_connection(t, s.options);
  t.passive_open = true;
  t.listener = s.listener.get();
  t.listener->syn_queue.push_back(&t);
  t.state = State::kListen;  // the child starts as its listener's copy (RFC 9293 3.10.7.2)
  t.irs = seg.seq;
  t.rcv_nxt = seg.seq + 1;
  negotiate_options(t, seg);
  update_ts_recent(t, seg);
  t.iss = SeqNum(initial_sequence_number(isn_key_, tuple, now_.count()));
  t.snd_una = t.iss;
  t.snd_nxt = t.iss + 1;
  t.snd_max = t.snd_nxt;
  t.send_buf_seq = t.iss + 1;
  t.snd_wnd = seg.window;  // never scaled in a SYN
  t.max_snd_wnd = t.snd_wnd;
  t.snd_wl1 = seg.seq;
  t.snd_wl2 = t.iss;
  // Text on the SYN is not taken: RCV.NXT acknowledges the SYN only, so the peer sends the
  // data again once the connection is established (see README, deviations).
  transition(t, State::kSynReceived);
  ++counters_.passive_opens;
  send_syn(t);
  t.rtt_seq = t.iss + 1;  // the handshake gives the first RTT sample (RFC 6298 2.2)
  t.rtt_start = now_;
  arm_rtx(t);
  settle(t);
}

void Engine::complete_from_cookie(Socket& s, const Segment& seg) {
  Listener& l = *s.listener;
  const FourTuple tuple{seg.dst_addr, seg.dst_port, seg.src_addr, seg.src_port};
  const auto mss = check_syn_cookie(cookie_key_, tuple, (seg.seq - 1).value(),
                                    (seg.ack - 1).value(), now_.count());
  if (l.accept_queue.size() >= queue_limit(l)) {
    ++counters_.accept_queue_drops;
    if (config_.accept_overflow == AcceptOverflow::kReset) send_rst_for(seg);
    return;
  }
  ++counters_.cookies_valid;
  Tcb& t = create_tcb(tuple);
  init_connection(t, s.options);
  t.passive_open = true;
  t.listener = &l;
  t.state = State::kListen;
  t.irs = seg.seq - 1;
  t.rcv_nxt = seg.seq;
  // The cookie SYN,ACK offered a window: RCV.WND starts there, not at zero, or the text on this
  // ACK and the segments after it would be dropped (RFC 9293 3.10.7.2 queues text that arrives
  // in the window; 3.8.6.2.2: the right edge advertised never moves left). And no window
  // scaling: the cookie SYN,ACK carried no Window Scale option, so both shift counts are zero
  // (RFC 7323 2.2).
  t.rcv_adv = t.rcv_nxt + cookie_window(config_, t.options);
  t.rcv_wscale = 0;
  t.iss = seg.ack - 1;
  t.snd_una = seg.ack;
  t.snd_nxt = seg.ack;
  t.snd_max = seg.ack;
  t.send_buf_seq = seg.ack;
  t.peer_mss = *mss;
  const std::uint16_t ours = t.options.max_seg != 0 ? t.options.max_seg : config_.mss;
  t.snd_mss = std::min(*mss, ours);
  // The handshake happened without us: LISTEN -> SYN-RECEIVED -> ESTABLISHED in one step.
  transition(t, State::kSynReceived);
  transition(t, State::kEstablished);
  ++counters_.passive_opens;
  ++counters_.connections_established;
  t.snd_wnd = seg.window;  // no window scaling without the SYN's options
  t.max_snd_wnd = t.snd_wnd;
  t.snd_wl1 = seg.seq;
  t.snd_wl2 = seg.ack;
  l.accept_queue.push_back(&t);
  established(t);
  ++t.segs_in;
  process_text_and_fin(t, {seg.seq, seg.flags, seg.payload});  // the ACK may carry data (and a FIN)
  settle(t);
}

bool Engine::enter_accept_queue(Tcb& t) {
  Listener& l = *t.listener;
  if (l.accept_queue.size() >= queue_limit(l)) return false;
  l.syn_queue.erase(std::remove(l.syn_queue.begin(), l.syn_queue.end(), &t), l.syn_queue.end());
  l.accept_queue.push_back(&t);
  return true;
}

void Engine::detach_from_listener(Tcb& t) {
  if (t.listener == nullptr) return;
  Listener& l = *t.listener;
  l.syn_queue.erase(std::remove(l.syn_queue.begin(), l.syn_queue.end(), &t), l.syn_queue.end());
  l.accept_queue.erase(std::remove(l.accept_queue.begin(), l.accept_queue.end(), &t),
                       l.accept_queue.end());
  t.listener = nullptr;
}

void Engine::close_listener(Socket& s) {
  Listener& l = *s.listener;
  listeners_.erase(l.port);
  // Established connections nobody accepted are reset, as Linux does; half-open ones vanish.
  while (!l.accept_queue.empty()) {
    Tcb& t = *l.accept_queue.front();
    send_rst(t);
    delete_tcb(t, 0);
  }
  while (!l.syn_queue.empty()) delete_tcb(*l.syn_queue.front(), 0);
  s.listener.reset();
}

}  // namespace synack::stack
