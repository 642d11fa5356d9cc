// Every knob of the in-process stack. Defaults follow what a Linux host does where the RFCs
// leave a choice (DESIGN.md), each named after the sysctl or socket option it mirrors.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace synack::stack {

using Duration = std::chrono::microseconds;
// A point on the caller's clock: microseconds since an origin the caller picks (the stack never
// reads a wall clock).
using Instant = std::chrono::microseconds;

using namespace std::chrono_literals;

// What to do when the handshake completes but the listener's accept queue is full.
enum class AcceptOverflow {
  kDrop,   // ignore the ACK; the peer retransmits it and may get in later (Linux default)
  kReset,  // answer with RST (Linux tcp_abort_on_overflow = 1)
};

struct StackConfig {
  std::uint32_t local_addr = 0xc0a80001;  // 192.168.0.1: the stack's primary IPv4 address
  // More addresses of the same interface (a multihomed host, RFC 9293 3.9.1.1): segments to any
  // of them are taken, and bind() may name one as the local address of an OPEN (MUST-43).
  std::vector<std::uint32_t> alias_addrs;
  // The TTL of every packet a socket without IP_TTL sends (RFC 9293 3.9.2: MUST-49 asks for a
  // configurable TTL; Linux's net.ipv4.ip_default_ttl).
  std::uint8_t default_ttl = 64;

  // Options offered on SYNs.
  std::uint16_t mss = 1460;        // MSS option value (RFC 9293 3.7.1); TCP_MAXSEG overrides
  std::uint8_t wscale = 7;         // window scale offered (RFC 7323 2.2); capped at 14
  bool timestamps = true;          // RFC 7323 3 (tcp_timestamps)
  bool sack = true;                // RFC 2018 (tcp_sack)
  std::uint32_t rcv_buf = 131072;  // SO_RCVBUF default: the most the receive window can open
  std::uint32_t snd_buf = 131072;  // SO_SNDBUF default

  // Handshake (RFC 6298 2.1 initial RTO; Linux retry counts).
  Duration initial_rto = 1s;
  Duration min_rto = 200ms;  // Linux TCP_RTO_MIN
  Duration max_rto = 120s;   // Linux TCP_RTO_MAX
  // tcp_syn_retries: connect() fails with ETIMEDOUT after these. 7, not Linux's 6: with 1 s
  // doubling, 6 gives up after 127 s, and RFC 9293 3.8.3 MUST-23 asks for at least 3 minutes
  // (7: the last SYN at 127 s, ETIMEDOUT at 255 s).
  int syn_retries = 7;
  int synack_retries = 5;  // tcp_synack_retries: 1, 2, 4, 8, 16 s, dropped at 63 s
  int retries2 = 15;       // tcp_retries2: data and FIN retransmissions before giving up
  int orphan_retries = 8;  // tcp_orphan_retries: the same once the application has closed

  // Congestion control (RFC 5681, RFC 6582 NewReno): the initial window in segments (RFC 6928;
  // Linux TCP_INIT_CWND).
  std::uint32_t initial_cwnd_segments = 10;
  // RFC 5681 4.1 (a SHOULD): after more than an RTO without sending data, cwnd restarts from
  // at most the restart window, min(IW, cwnd) (Linux tcp_slow_start_after_idle).
  bool slow_start_after_idle = true;

  // Delayed ACK (RFC 9293 3.8.6.3): an ACK waits at most this long (MUST-40: under 0.5 s), and
  // every second full-sized segment is acknowledged at once (SHLD-19). 0 acknowledges at once.
  Duration delayed_ack = 40ms;

  // Teardown.
  Duration msl = 30s;          // TIME-WAIT lasts 2*MSL = 60 s, as Linux (MUST-13)
  Duration fin_timeout = 60s;  // tcp_fin_timeout: an orphaned FIN-WAIT-2 is dropped after this

  // Listen queues (RFC 4987).
  bool syncookies = true;  // tcp_syncookies: cookies once the SYN queue is full
  AcceptOverflow accept_overflow = AcceptOverflow::kDrop;
  int max_backlog = 4096;  // somaxconn: listen() caps its backlog here

  // RFC 5961 section 7: challenge ACKs sent per second, across all connections.
  int challenge_ack_limit = 1000;  // tcp_challenge_ack_limit
  // At most one ACK per connection per interval in answer to unacceptable segments without
  // data (against ACK wars; RFC 5961 10). Linux tcp_invalid_ratelimit.
  Duration invalid_ack_interval = 500ms;

  // Keepalive (RFC 9293 3.8.4; RFC 1122 4.2.3.6): idle time, probe interval, probe count.
  Duration keepalive_idle = 7200s;  // tcp_keepalive_time (MUST-28: at least two hours)
  Duration keepalive_interval = 75s;
  int keepalive_probes = 9;

  std::uint16_t ephemeral_low = 32768;  // ip_local_port_range
  std::uint16_t ephemeral_high = 60999;

  // White-box invariants after every segment in and out (DESIGN.md). On in tests, debug and
  // fuzz builds; the benchmark reports figures with them on and off.
  bool check_invariants = true;
};

}  // namespace synack::stack
