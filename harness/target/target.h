// A Target is what the runner drives: a link (inject a packet, collect the target's packets up
// to a deadline), a clock, the target application's socket calls, and an optional look at its
// TCP state. The runner knows nothing else about what is behind it: the in-process stack with
// virtual time, the Linux kernel in a namespace, or any stack behind a tap.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace synack::target {

using Bytes = std::vector<std::uint8_t>;

struct Captured {
  Bytes packet;          // an IPv4 packet the target sent
  std::int64_t time_us;  // when, on the target's clock
};

// One socket call, already translated from the script (fds are the target's own).
struct SockCall {
  enum class Op {
    kSocket,
    kBind,
    kListen,
    kAccept,
    kConnect,
    kRead,
    kWrite,
    kShutdown,
    kClose,
    kSetsockopt,
    kGetsockopt,
    kSetNonblocking,
    kGetNonblocking,
    kPoll,
    kIoctlInq,
    kIoctlOutq,
  };
  Op op = Op::kSocket;
  int fd = -1;
  std::uint16_t port = 0;  // bind; connect: the harness's port
  // bind: the target's local address, 0 for INADDR_ANY; connect: the address to connect to, 0
  // for the harness's own. Host byte order.
  std::uint32_t addr = 0;
  int backlog = 0;         // listen
  std::size_t length = 0;  // read/write
  Bytes data;              // write
  int how = 0;             // shutdown: 0 SHUT_RD, 1 SHUT_WR, 2 SHUT_RDWR
  std::string option;      // setsockopt/getsockopt: "SO_REUSEADDR", "TCP_NODELAY", ...
  int value = 0;           // setsockopt value; SO_LINGER: seconds with linger_on
  bool linger_on = false;
  bool nonblocking = false;  // kSetNonblocking
  unsigned poll_events = 0;  // kPoll: POLL* bits asked for
};

struct SockResult {
  std::int64_t ret = 0;  // -1 on error
  int err = 0;           // errno when ret == -1
  Bytes data;            // read
  int value = 0;         // getsockopt, ioctl, poll revents, accept's peer port
};

// tcpi_* fields the target can report, by name without the prefix ("state", "rto", ...). The
// state is Linux's TCP_* number (TCP_ESTABLISHED = 1, ...).
using TcpInfo = std::map<std::string, std::int64_t>;

// The 4-tuple of the connection behind an fd, as the target sees it.
struct ConnKey {
  std::uint32_t target_addr = 0;
  std::uint16_t target_port = 0;
  std::uint32_t harness_addr = 0;
  std::uint16_t harness_port = 0;
};

enum class OptionStatus { kApplied, kUnsupported, kBadValue };

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;
  virtual std::uint32_t target_addr() const = 0;   // the stack under test
  virtual std::uint32_t harness_addr() const = 0;  // the remote peer the harness plays

  // Applies a script's --name=value knob before the case starts.
  virtual OptionStatus set_option(const std::string& name, const std::string& value) = 0;

  virtual std::int64_t now_us() const = 0;
  // Sends `packet` to the target now.
  virtual void inject(std::span<const std::uint8_t> packet) = 0;
  // The first packet the target sends at or before `deadline_us`, letting time pass until then.
  // nullopt when nothing came; the clock then reads `deadline_us`.
  virtual std::optional<Captured> next_packet(std::int64_t deadline_us) = 0;

  // A socket call. Never blocks: a call that would block returns -1 EAGAIN (EINPROGRESS for
  // connect); the runner decides what blocking means.
  virtual SockResult call(const SockCall& c) = 0;
  // Whether a blocking call on fd could complete now (poll-style readiness).
  virtual unsigned poll(int fd) = 0;
  virtual std::optional<TcpInfo> tcp_info(int fd) = 0;
  virtual std::optional<ConnKey> connection(int fd) = 0;
};

}  // namespace synack::target
