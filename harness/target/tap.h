// The tap target: any stack on the far side of an existing tap device. The harness plays the
// remote host 192.168.0.2 (MAC 02:53:59:4e:00:02) on the link (harness/link/tap.h); the stack
// under test is 192.168.0.1 (and 192.168.0.3 for the MUST-43 cases). Socket calls, knobs and
// tcp_info go to the stack's agent (harness/agent/client.h, docs/agent-protocol.md); `reset`
// comes first in every case. Real time (CLOCK_MONOTONIC), with the runner's tolerance.
//
// Without an agent only the link is there: cases that make socket calls, set stack knobs or
// read tcpi_ fields cannot run (synack run reports them SKIP with that reason).
//
// The agent's failures (gone, silent, garbled) are AgentError exceptions out of set_option,
// call, poll, tcp_info and connection: the caller turns them into a case ERROR.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "harness/agent/client.h"
#include "harness/link/tap.h"
#include "harness/target/target.h"
#include "harness/wire/result.h"

namespace synack::target {

// `tap:IFNAME[,agent=unix:PATH|HOST:PORT][,mac=aa:bb:cc:dd:ee:ff]`, parsed.
struct TapSpec {
  std::string ifname;
  std::string agent;                 // "" when there is none
  std::optional<wire::MacAddr> mac;  // the stack's MAC; learned from its first frame otherwise
};

// Parses a --target value starting with "tap:"; the error says what is wrong and where.
wire::Result<TapSpec, std::string> parse_tap_spec(std::string_view text);

// The flags (IFF_UP, IFF_RUNNING, ...) of interface `ifname` in the calling thread's network
// namespace (SIOCGIFFLAGS; /sys/class/net would show the namespace sysfs was mounted in), or
// nullopt when there is no such interface.
std::optional<unsigned> interface_flags(const std::string& ifname);

// Waits until `ifname` is running (IFF_RUNNING: carrier, and the kernel's link watch has seen
// it), `timeout` at most; whether it is.
bool wait_until_running(const std::string& ifname, std::chrono::milliseconds timeout);

// Why a tap device cannot be attached to here ("needs root ...", "no usable /dev/net/tun ..."),
// or "" when it can. Checked up front by `synack run --target tap:` and `synack serve`.
std::string tap_unavailable();

class TapTarget : public Target {
 public:
  static constexpr std::uint32_t kTargetAddr = 0xc0a80001;       // 192.168.0.1
  static constexpr std::uint32_t kHarnessAddr = 0xc0a80002;      // 192.168.0.2
  static constexpr std::uint32_t kTargetAliasAddr = 0xc0a80003;  // 192.168.0.3
  static constexpr const char* kHarnessMac = "02:53:59:4e:00:02";

  // Attaches to the tap, connects to the agent (if any) and resets it, then drops whatever the
  // link still held from before. The error names the tap or the agent and what failed.
  static wire::Result<std::unique_ptr<TapTarget>, std::string> create(
      const TapSpec& spec, std::chrono::milliseconds agent_timeout = std::chrono::seconds(3));
  // The same on a link that outlives the target (`link` must): one per lane for a whole run.
  // Re-opening a tap for every case would drop its carrier each time, and a bridge port
  // forwards again only once the kernel's link watch notices, up to a second later: the first
  // frames of a case would be lost.
  static wire::Result<std::unique_ptr<TapTarget>, std::string> create(
      const TapSpec& spec, link::TapLink& link,
      std::chrono::milliseconds agent_timeout = std::chrono::seconds(3));
  // The harness's end of the link for `spec`: the tap must exist already (in this thread's
  // network namespace), since a tap synack created would have no stack behind it.
  static wire::Result<std::unique_ptr<link::TapLink>, std::string> open_link(const TapSpec& spec);
  ~TapTarget() override;
  TapTarget(const TapTarget&) = delete;
  TapTarget& operator=(const TapTarget&) = delete;

  std::string name() const override { return "tap"; }
  std::uint32_t target_addr() const override { return kTargetAddr; }
  std::uint32_t harness_addr() const override { return kHarnessAddr; }
  OptionStatus set_option(const std::string& name, const std::string& value) override;

  std::int64_t now_us() const override { return link::TapLink::now_us(); }
  void inject(std::span<const std::uint8_t> packet) override;
  std::optional<Captured> next_packet(std::int64_t deadline_us) override;

  SockResult call(const SockCall& c) override;
  unsigned poll(int fd) override;
  std::optional<TcpInfo> tcp_info(int fd) override;
  std::optional<ConnKey> connection(int fd) override;

  bool has_agent() const { return agent_ != nullptr; }
  // The agent's name for its stack (hello's stack=), "" without an agent.
  std::string stack_name() const { return agent_ ? agent_->stack_name() : ""; }
  link::TapLink& link() { return *link_; }
  // The first error the link reported (a failed write), or "".
  const std::string& link_error() const { return link_error_; }

 private:
  TapTarget() = default;
  agent::AgentClient& agent(const char* what);

  std::unique_ptr<link::TapLink> owned_link_;  // when not given one
  link::TapLink* link_ = nullptr;
  std::unique_ptr<agent::AgentClient> agent_;
  std::string link_error_;
};

}  // namespace synack::target
