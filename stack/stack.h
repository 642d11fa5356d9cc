// The in-process TCP/IP stack: the implementation synack tests by default and its reference.
//
// No I/O, no threads, no global state, no wall clock. Segments go in through input(), come out
// through take_output(); time is the `now` the caller passes (and advance(now) fires timers
// that are due); randomness (ISNs, SYN cookie keys, ephemeral ports) comes from the seed. The
// same inputs at the same instants always give the same outputs, and many stacks can live in
// one process.
//
// The socket API mirrors BSD sockets but never blocks: a call that would block returns EAGAIN
// (read, accept, write with a full buffer) or EINPROGRESS (connect); the caller polls events().
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "stack/config.h"
#include "stack/errors.h"
#include "stack/tcp/snapshot.h"

namespace synack::stack {

using SocketId = int;
using Packet = std::vector<std::uint8_t>;

enum class SocketOption {
  kReuseAddr,     // SO_REUSEADDR (int 0/1)
  kKeepAlive,     // SO_KEEPALIVE (int 0/1)
  kLinger,        // SO_LINGER: use setsockopt_linger / getsockopt_linger
  kRcvBuf,        // SO_RCVBUF (bytes)
  kSndBuf,        // SO_SNDBUF (bytes)
  kError,         // SO_ERROR (get only; reading clears it)
  kNoDelay,       // TCP_NODELAY (int 0/1)
  kMaxSeg,        // TCP_MAXSEG (bytes; set before connect/listen)
  kKeepIdle,      // TCP_KEEPIDLE (seconds)
  kKeepInterval,  // TCP_KEEPINTVL (seconds)
  kKeepCount,     // TCP_KEEPCNT (probes)
  kTos,           // IP_TOS: the DS field of every packet sent (MUST-48); the ECN bits stay 0
  kTtl,           // IP_TTL: 1-255, or -1 for the stack's default_ttl (MUST-49)
  // TCP_USER_TIMEOUT (ms, 0 off; RFC 5482, Linux): the connection's own R2 (MUST-21). Data left
  // unacknowledged this long ends the connection with ETIMEDOUT, replacing tcp_retries2.
  kUserTimeout,
};

enum class Shutdown { kRead, kWrite, kBoth };  // SHUT_RD, SHUT_WR, SHUT_RDWR

// poll() events, with Linux's bit values.
namespace event {
inline constexpr unsigned kIn = 0x001;      // POLLIN: data, EOF, or a connection to accept
inline constexpr unsigned kPri = 0x002;     // POLLPRI: urgent data announced and not yet read
inline constexpr unsigned kOut = 0x004;     // POLLOUT: connected and room in the send buffer
inline constexpr unsigned kErr = 0x008;     // POLLERR: a pending SO_ERROR
inline constexpr unsigned kHup = 0x010;     // POLLHUP: both directions closed
inline constexpr unsigned kRdHup = 0x2000;  // POLLRDHUP: the peer sent FIN
}  // namespace event

struct Endpoint {
  std::uint32_t addr = 0;
  std::uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Called when a white-box invariant fails: which invariant, and the connection's snapshot. The
// default handler prints both and aborts (tests and fuzzers want a crash they can see).
using InvariantHandler = std::function<void(const std::string& invariant, const Snapshot& at)>;

class Engine;

class Stack {
 public:
  Stack(StackConfig config, std::uint64_t seed);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  Stack(Stack&&) noexcept;
  Stack& operator=(Stack&&) noexcept;

  const StackConfig& config() const;

  // --- the network side
  // One IPv4 packet arriving at `now` (non-decreasing across calls): a TCP segment or an ICMP
  // message about one (RFC 9293 3.9.2.2). Packets that do not parse, fail their checksum, are
  // not addressed to local_addr, come from a broadcast, multicast or 0.0.0.0/8 source, or carry
  // a source route, are dropped and counted.
  void input(std::span<const std::uint8_t> ip_packet, Instant now);
  // Fires every timer due at or before `now`.
  void advance(Instant now);
  // The earliest instant at which advance() has work to do; nullopt when no timer runs.
  std::optional<Instant> next_deadline() const;
  // Packets the stack has sent since the last call, in order.
  std::vector<Packet> take_output();
  // The same into `out`, whose list buffer the stack keeps for the packets to come, and whose
  // packets it takes back (their buffers hold the next packets it sends): a caller that drains
  // after every input allocates nothing per drain once warm.
  void take_output(std::vector<Packet>& out);
  // Hands back one packet taken earlier, once the caller is done with it: its buffer holds a
  // later packet the stack sends. For callers that keep packets after the drain (a link that
  // queues them) and still want no allocation per packet. Optional; the stack keeps a few.
  void recycle(Packet&& p);
  // Number of packets waiting in take_output().
  std::size_t pending_output() const;

  // --- the socket API (errno values as Linux returns them)
  SysResult<SocketId> socket();
  SysStatus bind(SocketId s, std::uint16_t port);
  // bind() with a local address too: 0 (INADDR_ANY) or one of the stack's own addresses, else
  // EADDRNOTAVAIL. The local address of an OPEN (RFC 9293 3.9.1.1, MUST-43): a listener bound
  // to one address takes connections to that address only; a connection uses it as source.
  SysStatus bind(SocketId s, Endpoint local);
  SysStatus listen(SocketId s, int backlog);
  // EINPROGRESS when the SYN has gone out; ENETUNREACH for a broadcast or multicast address
  // (MUST-46).
  SysStatus connect(SocketId s, Endpoint remote);
  SysResult<SocketId> accept(SocketId s, Endpoint* peer = nullptr);
  // Reads up to `max` bytes; an empty vector means end of stream (the peer's FIN).
  SysResult<std::vector<std::uint8_t>> read(SocketId s, std::size_t max);
  // Queues bytes for sending; returns how many were accepted (EAGAIN when none fit).
  SysResult<std::size_t> write(SocketId s, std::span<const std::uint8_t> data);
  SysStatus shutdown(SocketId s, Shutdown how);
  SysStatus close(SocketId s);
  // Aborts the connection with a RST (as close() with SO_LINGER {on, 0}).
  SysStatus abort(SocketId s);
  SysStatus setsockopt(SocketId s, SocketOption opt, int value);
  SysResult<int> getsockopt(SocketId s, SocketOption opt);
  SysStatus setsockopt_linger(SocketId s, bool on, int seconds);
  unsigned events(SocketId s) const;  // event:: bits; 0x020 (POLLNVAL) for a bad socket
  SysResult<std::size_t> unread_bytes(SocketId s) const;  // ioctl SIOCINQ
  SysResult<std::size_t> unsent_bytes(SocketId s) const;  // ioctl SIOCOUTQ
  // Urgent data (RFC 9293 3.8.5, MUST-33): how many bytes from the read position up to the
  // urgent pointer remain unread (0 when none is pending). The data stays in line (RFC 6093).
  SysResult<std::size_t> urgent_bytes(SocketId s) const;
  SysResult<Endpoint> local_endpoint(SocketId s) const;
  SysResult<Endpoint> remote_endpoint(SocketId s) const;

  // --- observation
  // The connection behind a socket (nullopt for a listener, an unconnected socket, or once the
  // connection is gone).
  std::optional<Snapshot> snapshot(SocketId s) const;
  // Every connection the stack holds, including orphans (closed by the application but still
  // finishing) and half-open ones in listeners' SYN queues.
  // In (local port, remote address, remote port, local address) order.
  std::vector<Snapshot> connections() const;
  // The connection whose remote end is `remote`. Where there are several (a new incarnation
  // beside one in TIME-WAIT, or one on each local address), the first in connections() order
  // that is not in TIME-WAIT, else the last. Costs one snapshot, whatever the stack holds.
  std::optional<Snapshot> connection(Endpoint remote) const;
  const StackCounters& counters() const;
  // Listener queue lengths (for tests and assertions).
  struct ListenQueues {
    std::size_t syn_queue = 0;
    std::size_t accept_queue = 0;
    std::size_t limit = 0;
  };
  std::optional<ListenQueues> listen_queues(SocketId s) const;

  void set_invariant_handler(InvariantHandler handler);

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace synack::stack
