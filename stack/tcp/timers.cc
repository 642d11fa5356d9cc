// Timeouts (RFC 9293 3.10.8; RFC 6298 5 backoff; RFC 1122 4.2.3.6 keepalive).
#include <algorithm>

#include "stack/tcp/engine.h"

namespace synack::stack {

void Engine::arm_rtx(Tcb& t) { t.rtx_deadline = now_ + t.rto; }

void Engine::restart_keepalive(Tcb& t) {
  t.keepalive_probes_sent = 0;
  // Keep-alives run while the connection is open both ways or half-closed with the application
  // still holding it (FIN-WAIT-2 included, as Linux: a half-closed connection whose peer died
  // would otherwise wait forever). An orphan in FIN-WAIT-1/2 has its own timeouts instead.
  const bool half_closed_held =
      in_state(t.state, State::kFinWait1 | State::kFinWait2) && t.owner != -1;
  if (!t.options.keepalive ||
      (!in_state(t.state, State::kEstablished | State::kCloseWait) && !half_closed_held)) {
    t.keepalive_deadline.reset();
    return;
  }
  const Duration idle =
      t.options.keepalive_idle.count() != 0 ? t.options.keepalive_idle : config_.keepalive_idle;
  t.keepalive_deadline = now_ + idle;
}

void Engine::enter_time_wait(Tcb& t) {
  if (t.state != State::kTimeWait) transition(t, State::kTimeWait);
  // "Start the time-wait timer, turn off the other timers" (3.10.7.4, eighth step). MUST-13.
  t.rtx_deadline.reset();
  t.keepalive_deadline.reset();
  t.fin_wait2_deadline.reset();
  t.time_wait_deadline = now_ + 2 * config_.msl;
}

void Engine::on_timers(Tcb& t) {
  const FourTuple tuple = t.tuple;
  auto due = [&](const std::optional<Instant>& d) { return d && *d <= now_; };
  if (due(t.time_wait_deadline)) {
    delete_tcb(t, 0);  // TIME-WAIT TIMEOUT: delete the TCB, enter CLOSED
    return;
  }
  if (due(t.fin_wait2_deadline)) {
    delete_tcb(t, 0);  // an orphan in FIN-WAIT-2 whose peer never closed
    return;
  }
  if (due(t.rtx_deadline)) {
    on_retransmission_timeout(t);
    if (find(tuple) == nullptr) return;
  }
  if (due(t.keepalive_deadline) && t.owner == -1 &&
      in_state(t.state, State::kFinWait1 | State::kFinWait2)) {
    t.keepalive_deadline.reset();  // orphaned since it was armed: the orphan timeouts govern
  }
  if (due(t.keepalive_deadline)) {
    on_keepalive_timeout(t);
    if (find(tuple) == nullptr) return;
  }
  if (due(t.persist_deadline)) {
    on_persist_timeout(t);
    if (find(tuple) == nullptr) return;
  }
  if (due(t.delack_deadline)) send_ack(t);
  settle(t);
}

void Engine::on_retransmission_timeout(Tcb& t) {
  // RFC 9293 3.8.3 (R2, MUST-20): the give-up threshold is the stack's choice; an orphan (no
  // socket, and not waiting in a listener's queue for one) has nobody to tell and gets Linux's
  // shorter tcp_orphan_retries, whether it was opened actively or from a listener.
  const bool orphan = t.owner < 0 && t.listener == nullptr;
  int limit = orphan ? config_.orphan_retries : config_.retries2;
  if (t.state == State::kSynSent) limit = config_.syn_retries;
  if (t.state == State::kSynReceived) limit = config_.synack_retries;
  // MUST-21: a connection's own R2, as time (TCP_USER_TIMEOUT, RFC 5482), replaces the count
  // once synchronized (as Linux's retransmits_timed_out).
  const Duration user_timeout = t.options.user_timeout;
  const bool timed =
      user_timeout.count() > 0 && !in_state(t.state, State::kSynSent | State::kSynReceived);
  if (timed ? now_ - t.rtx_since >= user_timeout : t.retransmits >= limit) {
    ++counters_.timeouts;
    // A half-open passive connection just vanishes from the SYN queue; anything else reports
    // ETIMEDOUT (connect() for a SYN, read/write after that), or the soft error an ICMP message
    // left (RFC 9293 3.9.2.2, SHLD-25; as Linux's tcp_write_err).
    if (t.state == State::kSynReceived && t.passive_open) transition(t, State::kListen);
    delete_tcb(t, timeout_error(t));
    return;
  }
  if (t.cc != nullptr && !in_state(t.state, State::kSynSent | State::kSynReceived)) {
    ++counters_.rto_timeouts;
    // RFC 5681 3.1 (4): the first timeout of a segment halves ssthresh (later ones leave it);
    // every timeout collapses cwnd to the loss window, one segment. RFC 6582 4: "recover"
    // becomes the highest sequence number sent, and any fast recovery ends. RFC 2018 8 / RFC
    // 6675 5.1: the receiver may have discarded what it SACKed, so the scoreboard goes too.
    if (t.retransmits == 0) {
      t.cong.ssthresh = t.cc->ssthresh_after_loss(t.cong, flight_size(t), t.snd_mss);
    }
    t.cong.cwnd = t.snd_mss;
    t.cong.bytes_acked = 0;
    t.in_recovery = false;
    t.dupacks = 0;
    t.recover = t.snd_max;
    t.scoreboard.clear();
    // Go back N: everything after SND.UNA is presumed lost and goes again as cwnd reopens.
    t.snd_nxt = t.snd_una;
  }
  ++t.retransmits;
  t.rto = std::min(t.rto * 2, config_.max_rto);  // RFC 6298 5.5: back off the timer
  retransmit_head(t);
  arm_rtx(t);
  // The next timeout comes no later than the user timeout, so the connection ends on time
  // rather than a whole backed-off RTO later (Linux's tcp_clamp_rto_to_user_timeout).
  if (timed) t.rtx_deadline = std::min(*t.rtx_deadline, t.rtx_since + user_timeout);
}

void Engine::on_persist_timeout(Tcb& t) {
  t.persist_deadline.reset();
  const bool outstanding = t.snd_una.before(t.snd_max);
  if (outstanding || !t.fin_seq().after(t.snd_nxt)) return;  // nothing waits for the window
  // MUST-37: the connection stays open for as long as the peer answers its probes; only
  // unanswered ones count towards giving up (as Linux's tcp_retries2 for probes).
  const bool orphan = t.owner < 0 && t.listener == nullptr;
  if (t.persist_unanswered >= (orphan ? config_.orphan_retries : config_.retries2)) {
    ++counters_.timeouts;
    delete_tcb(t, timeout_error(t));
    return;
  }
  ++t.persist_backoff;
  if (t.snd_wnd == 0) {
    // MUST-36: probe the zero window. Like Linux, the probe is an ACK with an old sequence
    // number (SND.UNA - 1) and no data, which the peer must answer with its current window
    // (RFC 9293 3.8.6.1 allows the probe to carry one byte instead; either way it is
    // acknowledged).
    emit(t, tcp_flag::kAck, t.snd_una - 1, {}, false);
    ++t.persist_unanswered;
    ++counters_.window_probes;
  } else {
    output(t, /*force=*/true);  // the SWS override timeout: send what the window takes
  }
  if (!t.snd_una.before(t.snd_max)) arm_persist(t);
}

void Engine::on_keepalive_timeout(Tcb& t) {
  const Duration interval = t.options.keepalive_interval.count() != 0 ? t.options.keepalive_interval
                                                                      : config_.keepalive_interval;
  const int probes =
      t.options.keepalive_probes != 0 ? t.options.keepalive_probes : config_.keepalive_probes;
  if (t.snd_una.before(t.snd_max)) {
    // Data is outstanding: the retransmission timer watches the peer, not keepalive.
    t.keepalive_deadline = now_ + interval;
    return;
  }
  if (t.keepalive_probes_sent >= probes) {
    ++counters_.keepalive_timeouts;
    send_rst(t);  // as Linux does when keepalive gives up
    delete_tcb(t, timeout_error(t));
    return;
  }
  // RFC 9293 3.8.4: a probe is SEG.SEQ = SND.NXT - 1 with no data (SHLD-12), which any peer
  // must answer with an ACK (MUST-29 asks it to tolerate exactly this).
  emit(t, tcp_flag::kAck, t.snd_nxt - 1, {}, false);
  ++t.keepalive_probes_sent;
  t.keepalive_deadline = now_ + interval;
}

}  // namespace synack::stack
