// Timeouts (RFC 9293 3.10.8; RFC 6298 5 backoff; RFC 1122 4.2.3.6 keepalive).
#include <algorithm>

#include "stack/tcp/engine.h"

namespace synack::stack {

void Engine::arm_rtx(Tcb& t) { t.rtx_deadline = now_ + t.rto; }

void Engine::restart_keepalive(Tcb& t) {
  t.keepalive_probes_sent = 0;
  if (!t.options.keepalive || !in_state(t.state, State::kEstablished | State::kCloseWait)) {
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
  if (due(t.keepalive_deadline)) {
    on_keepalive_timeout(t);
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
  if (t.retransmits >= limit) {
    ++counters_.timeouts;
    // A half-open passive connection just vanishes from the SYN queue; anything else reports
    // ETIMEDOUT (connect() for a SYN, read/write after that).
    if (t.state == State::kSynReceived && t.passive_open) transition(t, State::kListen);
    delete_tcb(t, ETIMEDOUT);
    return;
  }
  ++t.retransmits;
  t.rto = std::min(t.rto * 2, config_.max_rto);  // RFC 6298 5.5: back off the timer
  retransmit_head(t);
  arm_rtx(t);
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
    delete_tcb(t, ETIMEDOUT);
    return;
  }
  // RFC 9293 3.8.4: a probe is SEG.SEQ = SND.NXT - 1 with no data (SHLD-12), which any peer
  // must answer with an ACK (MUST-29 asks it to tolerate exactly this).
  emit(t, tcp_flag::kAck, t.snd_nxt - 1, {}, false);
  ++t.keepalive_probes_sent;
  t.keepalive_deadline = now_ + interval;
}

}  // namespace synack::stack
