// TapServer: the built-in stack attached to a tap device in real time and answering the agent
// protocol, which is what `synack serve` runs. With the harness's `tap:IFNAME,agent=...` target
// on the other side of the link, the whole tap path (TapLink, Ethernet, ARP, the agent
// protocol, real-time timing) is tested end to end against a stack whose in-process verdicts
// are known, with no kernel TCP in the loop.
//
// One Boost.Asio io_context (the caller's) owns everything:
//   - the tap fd: each IPv4 frame in goes to stack.input(packet, now); ARP requests for the
//     stack's addresses (192.168.0.1 and its alias 192.168.0.3, as the inproc target has them)
//     are answered; the peer's MAC is learned from the source of its IPv4 and ARP frames;
//   - a steady_timer at stack.next_deadline(), so the stack's timers fire on time;
//   - the agent server (unix:PATH or a loopback HOST:PORT).
// The stack's output is flushed to the tap after every input, timer and request. The stack's
// clock is CLOCK_MONOTONIC in microseconds (std::chrono::steady_clock in libstdc++).
//
// Frames are parsed and built with harness/wire (the stack has no Ethernet layer of its own).
// IPv4 payloads go to the stack exactly as they arrived: the stack judges malformed ones.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "harness/wire/ethernet.h"
#include "harness/wire/result.h"

namespace synack::serve {

struct ServeConfig {
  std::string ifname;  // the tap device: attached to (created if absent, gone when we exit)
  std::string agent;   // unix:PATH or HOST:PORT (loopback or a local interface's address)
  std::uint64_t seed = 1;
  // The stack's MAC: the source of its frames and the answer to ARP for its addresses.
  wire::MacAddr mac = *wire::MacAddr::parse("02:53:59:4e:00:01");
};

// What the server did, for tests and the exit message.
struct ServeCounters {
  std::uint64_t frames_in = 0;
  std::uint64_t packets_in = 0;   // IPv4 packets handed to the stack
  std::uint64_t packets_out = 0;  // IPv4 packets the stack sent
  std::uint64_t arp_replies = 0;
  std::uint64_t ignored = 0;    // IPv6, other ethertypes, ARP not for us, frames for others
  std::uint64_t malformed = 0;  // frames too short for Ethernet, ARP we do not speak
  std::uint64_t timer_fires = 0;
  std::uint64_t write_errors = 0;
};

class TapServer {
 public:
  // Opens the tap (TUNSETIFF IFF_TAP|IFF_NO_PI, offloads off), makes the stack and starts the
  // agent server on `io`. The error names what failed ("open /dev/net/tun: ... (needs root or
  // CAP_NET_ADMIN)", "agent unix:/x: ...").
  static wire::Result<std::unique_ptr<TapServer>, std::string> create(boost::asio::io_context& io,
                                                                      const ServeConfig& config);
  // Stops everything; the unix socket file is removed. Call on the io_context's thread or while
  // it is not running.
  ~TapServer();
  TapServer(const TapServer&) = delete;
  TapServer& operator=(const TapServer&) = delete;

  std::string agent_address() const;  // with the port actually bound for HOST:0
  const ServeCounters& counters() const;
  // Why the server stopped the io_context itself (the tap device went away), or "".
  const std::string& failure() const;
  std::optional<wire::MacAddr> peer_mac() const;

  static constexpr std::uint32_t kStackAddr = 0xc0a80001;       // 192.168.0.1
  static constexpr std::uint32_t kStackAliasAddr = 0xc0a80003;  // 192.168.0.3

 private:
  struct Impl;
  explicit TapServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synack::serve
