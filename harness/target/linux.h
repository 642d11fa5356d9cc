// The linux target: the Linux kernel's TCP, in a network namespace of its own, over a tap link.
//
// Each LinuxTarget creates a fresh namespace synack-<pid>-<n> (see netns.h) holding:
//   lo up; tap synack0 up, MAC 02:53:59:4e:00:01, 192.168.0.1/24 and 192.168.0.3/24 (the alias
//   for MUST-43 cases), IPv6 off, offloads off; a permanent neighbour entry for the harness
//   (192.168.0.2, MAC 02:53:59:4e:00:02) so no ARP is needed (requests are still answered); a
//   default route via the harness, so replies to other sources ([src ...] lines) go to the tap.
//   Per-namespace sysctls so that cases run as written (see kDefaultSysctls in linux.cc).
// Socket calls are real syscalls on sockets created inside the namespace, all non-blocking
// (the runner decides what blocking means; the script's O_NONBLOCK is kept apart, for F_GETFL).
// Time is CLOCK_MONOTONIC; next_packet waits in real time. Everything (sockets, tap, namespace)
// goes when the target is destroyed.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "harness/link/tap.h"
#include "harness/target/netns.h"
#include "harness/target/target.h"

namespace synack::target {

class LinuxTarget : public Target {
 public:
  static constexpr std::uint32_t kTargetAddr = 0xc0a80001;       // 192.168.0.1
  static constexpr std::uint32_t kHarnessAddr = 0xc0a80002;      // 192.168.0.2
  static constexpr std::uint32_t kTargetAliasAddr = 0xc0a80003;  // 192.168.0.3
  static constexpr const char* kTapName = "synack0";
  static constexpr const char* kTargetMac = "02:53:59:4e:00:01";
  static constexpr const char* kHarnessMac = "02:53:59:4e:00:02";

  // A target in a new namespace, ready for set_option and the case. The error says what is
  // missing (root, /dev/net/tun, iproute2) or which step failed.
  static wire::Result<std::unique_ptr<LinuxTarget>, std::string> create();
  ~LinuxTarget() override;
  LinuxTarget(const LinuxTarget&) = delete;
  LinuxTarget& operator=(const LinuxTarget&) = delete;

  std::string name() const override { return "linux"; }
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

  const NetNs& netns() const { return *ns_; }
  link::TapLink& link() { return *link_; }
  // The first error the link reported (a failed write), or "".
  const std::string& link_error() const { return link_error_; }

 private:
  LinuxTarget() = default;
  SockResult do_call(const SockCall& c);
  bool owns(int fd) const { return fds_.count(fd) != 0; }
  void adopt(int fd) { fds_.insert(fd); }

  std::unique_ptr<NetNs> ns_;
  std::unique_ptr<link::TapLink> link_;
  std::set<int> fds_;                 // sockets this target made: the only fds it touches
  std::set<int> script_nonblocking_;  // fds the script made O_NONBLOCK (for F_GETFL)
  std::map<int, int> linger_;         // fd -> SO_LINGER seconds, when on with N > 0
  std::map<int, ConnKey> keys_;       // the connection behind each fd, once it had one
  std::string link_error_;
};

}  // namespace synack::target
