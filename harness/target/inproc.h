// The in-process target: synack's own stack, in virtual time. Time jumps straight to the next
// event or timer, so a 2*MSL wait costs nothing; each case gets a fresh stack. This is the only
// harness code that includes stack/, and only its public API.
#pragma once

#include <deque>
#include <map>
#include <memory>

#include "harness/target/target.h"
#include "stack/stack.h"

namespace synack::target {

class InprocTarget : public Target {
 public:
  static constexpr std::uint32_t kTargetAddr = 0xc0a80001;   // 192.168.0.1
  static constexpr std::uint32_t kHarnessAddr = 0xc0a80002;  // 192.168.0.2
  // The target's second address, for cases about the local address of an OPEN (MUST-43).
  static constexpr std::uint32_t kTargetAliasAddr = 0xc0a80003;  // 192.168.0.3

  explicit InprocTarget(std::uint64_t seed = 1);

  std::string name() const override { return "inproc"; }
  std::uint32_t target_addr() const override { return kTargetAddr; }
  std::uint32_t harness_addr() const override { return kHarnessAddr; }
  OptionStatus set_option(const std::string& name, const std::string& value) override;

  std::int64_t now_us() const override { return now_; }
  void inject(std::span<const std::uint8_t> packet) override;
  std::optional<Captured> next_packet(std::int64_t deadline_us) override;

  SockResult call(const SockCall& c) override;
  unsigned poll(int fd) override;
  std::optional<TcpInfo> tcp_info(int fd) override;
  std::optional<ConnKey> connection(int fd) override;

  // The stack, for tests that look behind the interface.
  stack::Stack& stack();

  // The connection behind `fd` in the stack's RFC 9293 names (snd_una, snd_nxt, rcv_nxt, snd_wnd,
  // rcv_wnd, cwnd and ssthresh in bytes, rto in us, ...) and its state's name ("ESTABLISHED"),
  // for the Python module's snapshot(); nullopt when `fd` has no connection.
  struct ConnSnapshot {
    std::string state;
    std::map<std::string, std::int64_t> values;
  };
  std::optional<ConnSnapshot> snapshot(int fd);

 private:
  void collect();

  std::uint64_t seed_;
  stack::StackConfig config_;
  std::unique_ptr<stack::Stack> stack_;  // created on first use, after set_option
  std::int64_t now_ = 0;
  std::deque<Captured> queue_;
};

}  // namespace synack::target
