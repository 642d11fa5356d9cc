// White-box invariants (DESIGN.md), checked after every segment in and out and every timer and
// user call that touches a connection. A violation names the invariant and carries the snapshot.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "stack/tcp/engine.h"

namespace synack::stack {

void Engine::violation(const Tcb& t, const std::string& what) {
  ++counters_.invariant_violations;
  const Snapshot snap = snapshot_of(t);
  if (invariant_handler_) {
    invariant_handler_(what, snap);
    return;
  }
  std::fprintf(stderr,
               "synack stack invariant violated: %s\n  state %s, iss %u snd_una %u snd_nxt %u "
               "snd_max %u snd_wnd %u, irs %u rcv_nxt %u rcv_wnd %u rcv_adv %u, send_q %u "
               "recv_q %u\n",
               what.c_str(), state_name(snap.state), snap.iss.value(), snap.snd_una.value(),
               snap.snd_nxt.value(), snap.snd_max.value(), snap.snd_wnd, snap.irs.value(),
               snap.rcv_nxt.value(), snap.rcv_wnd, snap.rcv_adv.value(), snap.send_queue,
               snap.recv_queue);
  std::abort();
}

void Engine::check_invariants(Tcb& t) {
  if (!config_.check_invariants) return;
  auto require = [&](bool ok, const char* what) {
    if (!ok) violation(t, what);
  };
  require(t.snd_una.before_eq(t.snd_nxt), "SND.UNA <= SND.NXT");
  require(t.snd_nxt.before_eq(t.snd_max), "SND.NXT <= SND.MAX");
  require(distance(t.snd_una, t.snd_max) <= t.send_buf.size() + 2,
          "SND.MAX - SND.UNA fits the send buffer plus SYN and FIN");
  require(t.recv_buf.size() <= t.rcv_buf_cap + (1U << t.rcv_wscale),
          "the receive buffer stays within its capacity");
  if (t.state != State::kSynSent) {
    require(t.rcv_adv.after_eq(t.rcv_nxt), "RCV.NXT <= advertised right edge");
    if (t.checked_rcv_adv) {
      require(t.rcv_adv.after_eq(*t.checked_rcv_adv),
              "the advertised right window edge (RCV.NXT + RCV.WND) never moves left");
    }
    t.checked_rcv_adv = t.rcv_adv;
  }
  const bool outstanding = t.snd_una.before(t.snd_max);
  require(t.rtx_deadline.has_value() == (outstanding && t.state != State::kTimeWait),
          "the retransmission timer runs iff something is unacknowledged");
  require(t.time_wait_deadline.has_value() == (t.state == State::kTimeWait),
          "the TIME-WAIT timer runs iff in TIME-WAIT");
  require(!t.fin_wait2_deadline || t.state == State::kFinWait2,
          "the FIN-WAIT-2 timer runs only in FIN-WAIT-2");
  require(!t.keepalive_deadline || in_state(t.state, State::kEstablished | State::kCloseWait |
                                                         State::kFinWait1 | State::kFinWait2),
          "keepalive runs only on an established or half-closed connection");
  require(!t.persist_deadline || (!outstanding && !t.rtx_deadline),
          "the persist timer runs only while nothing is in flight");
  require(t.rto <= config_.max_rto && t.rto >= std::min(config_.min_rto, config_.initial_rto),
          "RTO within [min RTO, max RTO] (RFC 6298 2.4, 2.5)");
  if (t.cc != nullptr) {
    require(t.cong.cwnd >= t.snd_mss, "cwnd is at least one segment (RFC 5681 3.1)");
    require(t.cong.ssthresh >= 2U * t.snd_mss, "ssthresh is at least two segments");
    require(!t.in_recovery || t.snd_una.before(t.recover),
            "fast recovery ends once everything up to \"recover\" is acknowledged");
  }
  if (t.state != State::kSynSent) {
    std::string why;
    if (!t.ooo.check(t.rcv_nxt, t.rcv_adv, &why)) {
      violation(t, "out-of-order queue within the window: " + why);
    }
  }
  if (std::string why; !t.scoreboard.check(t.snd_una, t.snd_max, &why)) {
    violation(t, "SACK scoreboard within [SND.UNA, SND.MAX]: " + why);
  }
  if (t.listener != nullptr) {
    const auto limit = static_cast<std::size_t>(std::max(1, t.listener->backlog));
    require(t.listener->syn_queue.size() <= limit, "SYN queue within the backlog");
    require(t.listener->accept_queue.size() <= limit, "accept queue within the backlog");
  }
  require(!in_state(t.state, State::kClosed | State::kListen), "a live TCB is never CLOSED");
}

}  // namespace synack::stack
