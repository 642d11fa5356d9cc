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

std::optional<ConnKey> InprocTarget::connection(int fd) { return stack_connection(stack(), fd); }

}  // namespace synack::target
