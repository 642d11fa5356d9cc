#include "harness/target/inproc.h"

#include "harness/target/stack_calls.h"

namespace synack::target {

InprocTarget::InprocTarget(std::uint64_t seed) : seed_(seed) {
  config_.local_addr = kTargetAddr;
  config_.alias_addrs = {kTargetAliasAddr};
}

stack::Stack& InprocTarget::stack() {
  if (!stack_) stack_ = std::make_unique<stack::Stack>(config_, seed_);
  return *stack_;
}

OptionStatus InprocTarget::set_option(const std::string& name, const std::string& value) {
  if (stack_) return OptionStatus::kUnsupported;  // knobs apply before the case starts
  return apply_stack_option(config_, name, value);
}

void InprocTarget::collect() {
  for (auto& p : stack().take_output()) queue_.push_back({std::move(p), now_});
}

void InprocTarget::inject(std::span<const std::uint8_t> packet) {
  stack().input(packet, stack::Instant(now_));
  collect();
}

std::optional<Captured> InprocTarget::next_packet(std::int64_t deadline_us) {
  stack::Stack& s = stack();
  for (;;) {
    if (!queue_.empty()) {
      Captured c = std::move(queue_.front());
      queue_.pop_front();
      return c;
    }
    const auto due = s.next_deadline();
    if (!due || due->count() > deadline_us) break;
    now_ = std::max(now_, static_cast<std::int64_t>(due->count()));
    s.advance(stack::Instant(now_));
    collect();
  }
  now_ = std::max(now_, deadline_us);
  s.advance(stack::Instant(now_));
  collect();
  if (queue_.empty()) return std::nullopt;
  return next_packet(deadline_us);
}

SockResult InprocTarget::call(const SockCall& c) {
  SockResult r = stack_call(stack(), c, kHarnessAddr);
  collect();
  return r;
}

unsigned InprocTarget::poll(int fd) { return stack().events(fd); }

std::optional<TcpInfo> InprocTarget::tcp_info(int fd) { return stack_tcp_info(stack(), fd); }

std::optional<InprocTarget::ConnSnapshot> InprocTarget::snapshot(int fd) {
  const auto snap = stack().snapshot(fd);
  if (!snap) return std::nullopt;
  ConnSnapshot out;
  out.state = stack::state_name(snap->state);
  auto seq = [](stack::SeqNum s) { return static_cast<std::int64_t>(s.value()); };
  auto& v = out.values;
  v["iss"] = seq(snap->iss);
  v["irs"] = seq(snap->irs);
  v["snd_una"] = seq(snap->snd_una);
  v["snd_nxt"] = seq(snap->snd_nxt);
  v["snd_max"] = seq(snap->snd_max);
  v["snd_wnd"] = snap->snd_wnd;
  v["rcv_nxt"] = seq(snap->rcv_nxt);
  v["rcv_wnd"] = snap->rcv_wnd;
  v["rcv_adv"] = seq(snap->rcv_adv);
  v["snd_mss"] = snap->snd_mss;
  v["snd_wscale"] = snap->snd_wscale;
  v["rcv_wscale"] = snap->rcv_wscale;
  v["send_queue"] = snap->send_queue;
  v["recv_queue"] = snap->recv_queue;
  v["cwnd"] = snap->cwnd;
  v["ssthresh"] = snap->ssthresh;
  v["rto"] = snap->rto.count();
  if (snap->srtt) v["srtt"] = snap->srtt->count();
  v["retransmits"] = snap->retransmits;
  v["persist_backoff"] = snap->persist_backoff;
  v["dupacks"] = snap->dupacks;
  v["in_recovery"] = snap->in_recovery ? 1 : 0;
  // Running timers: their deadlines, on the target's clock (us).
  if (snap->rtx_deadline) v["rtx_deadline"] = snap->rtx_deadline->count();
  if (snap->persist_deadline) v["persist_deadline"] = snap->persist_deadline->count();
  if (snap->time_wait_deadline) v["time_wait_deadline"] = snap->time_wait_deadline->count();
  if (snap->keepalive_deadline) v["keepalive_deadline"] = snap->keepalive_deadline->count();
  v["segs_in"] = static_cast<std::int64_t>(snap->segs_in);
  v["segs_out"] = static_cast<std::int64_t>(snap->segs_out);
  v["retransmitted_segs"] = static_cast<std::int64_t>(snap->retransmitted_segs);
  return out;
}

std::optional<ConnKey> InprocTarget::connection(int fd) { return stack_connection(stack(), fd); }

}  // namespace synack::target
