// A read-only picture of one connection, for invariant checkers and tcpi_* assertions.
#pragma once

#include <cstdint>
#include <optional>

#include "stack/config.h"
#include "stack/tcp/state.h"
#include "stack/wire/seq.h"

namespace synack::stack {

struct Snapshot {
  State state = State::kClosed;
  std::uint32_t local_addr = 0;
  std::uint16_t local_port = 0;
  std::uint32_t remote_addr = 0;
  std::uint16_t remote_port = 0;
  bool passive_open = false;  // came from a listener
  bool orphan = false;        // the application has closed its socket

  // RFC 9293 3.3.1 send and receive sequence variables.
  SeqNum iss, irs;
  SeqNum snd_una, snd_nxt, snd_max;  // snd_max: highest sequence number sent
  std::uint32_t snd_wnd = 0;         // scaled
  std::uint32_t max_snd_wnd = 0;     // RFC 5961 5.2 MAX.SND.WND
  SeqNum snd_wl1, snd_wl2;
  SeqNum rcv_nxt;
  std::uint32_t rcv_wnd = 0;
  SeqNum rcv_adv;  // the furthest right edge advertised (RCV.NXT + RCV.WND); never moves left

  // Negotiated options.
  std::uint16_t snd_mss = 0;    // largest payload we send
  std::uint8_t snd_wscale = 0;  // shift applied to the peer's windows
  std::uint8_t rcv_wscale = 0;  // shift applied to the windows we advertise
  bool timestamps = false;
  bool sack_permitted = false;

  // Queues.
  std::uint32_t send_queue = 0;  // bytes written and not yet acknowledged
  std::uint32_t recv_queue = 0;  // bytes received and not yet read
  std::uint32_t snd_buf = 0;
  std::uint32_t rcv_buf = 0;
  bool fin_queued = false;  // the application has shut down its sending side
  bool fin_received = false;

  // Timers: deadlines of those running.
  std::optional<Instant> rtx_deadline;        // retransmission (SYN, SYN-ACK, data, FIN)
  std::optional<Instant> time_wait_deadline;  // 2*MSL
  std::optional<Instant> fin_wait2_deadline;  // orphaned FIN-WAIT-2
  std::optional<Instant> keepalive_deadline;
  std::optional<Instant> delack_deadline;
  std::optional<Instant> persist_deadline;  // zero-window probe / SWS override
  Duration rto{0};
  std::optional<Duration> srtt;  // RFC 6298, once measured
  Duration rttvar{0};
  int retransmits = 0;  // consecutive retransmissions of the current head (backoff)
  int persist_backoff = 0;

  // Congestion control (RFC 5681) and loss recovery (RFC 6582).
  std::uint32_t cwnd = 0;
  std::uint32_t ssthresh = 0;
  bool in_recovery = false;
  int dupacks = 0;
  std::uint32_t ooo_bytes = 0;     // received out of order and queued
  std::uint32_t sacked_bytes = 0;  // of ours, SACKed by the peer
  std::optional<SeqNum> rcv_up;    // RCV.UP, once urgent data was announced
  int keepalive_probes_sent = 0;
  // The last ICMP soft error (an errno, 0 for none; RFC 9293 3.9.2.2, SHLD-25): reported instead
  // of ETIMEDOUT if the connection times out, or by SO_ERROR; an acceptable ACK clears it.
  int soft_error = 0;
  std::uint8_t tos = 0;  // IP_TOS and the TTL of the packets the connection sends
  std::uint8_t ttl = 0;

  // Per-connection counters.
  std::uint64_t segs_in = 0;
  std::uint64_t segs_out = 0;
  std::uint64_t retransmitted_segs = 0;
};

// Stack-wide counters (what `nstat` would show on Linux).
struct StackCounters {
  std::uint64_t packets_in = 0;
  std::uint64_t packets_out = 0;
  std::uint64_t bad_checksum = 0;  // dropped: IPv4 or TCP checksum does not verify
  std::uint64_t malformed = 0;     // dropped: did not parse
  std::uint64_t not_for_us = 0;    // dropped: another protocol or destination address
  // Dropped: a broadcast or multicast destination, or a broadcast, multicast or 0.0.0.0/8
  // source (RFC 1122 3.2.1.3; RFC 9293 3.9.2.3, MUST-57, MUST-63).
  std::uint64_t invalid_address = 0;
  std::uint64_t source_routed = 0;  // dropped: an LSRR or SSRR option (accept_source_route=0)
  // ICMP (RFC 9293 3.9.2.2, RFC 5927). Every message that parses and verifies counts in icmp_in,
  // then in exactly one of the others.
  std::uint64_t icmp_in = 0;
  std::uint64_t icmp_ignored = 0;        // not an error we act on, or for no connection of ours
  std::uint64_t icmp_out_of_window = 0;  // quoted SEQ outside [SND.UNA, SND.NXT) (RFC 5927 4.1)
  std::uint64_t icmp_source_quench = 0;  // discarded (MUST-55)
  std::uint64_t icmp_frag_needed = 0;    // discarded: no path MTU discovery here
  std::uint64_t icmp_soft_errors = 0;    // recorded on the connection, which goes on (MUST-56)
  std::uint64_t icmp_aborts = 0;         // connections aborted by a hard error (SHLD-26)
  std::uint64_t resets_sent = 0;
  std::uint64_t resets_received = 0;
  std::uint64_t challenge_acks = 0;             // RFC 5961 challenge ACKs sent
  std::uint64_t challenge_acks_suppressed = 0;  // over the rate limit
  std::uint64_t syn_queue_drops = 0;            // SYNs dropped: queue full and cookies off
  std::uint64_t accept_queue_drops = 0;         // handshakes completed into a full accept queue
  std::uint64_t cookies_sent = 0;
  std::uint64_t cookies_valid = 0;
  std::uint64_t cookies_invalid = 0;
  std::uint64_t active_opens = 0;
  std::uint64_t passive_opens = 0;
  std::uint64_t connections_established = 0;
  std::uint64_t retransmits = 0;
  std::uint64_t timeouts = 0;  // connections dropped by a retransmission timeout
  std::uint64_t keepalive_timeouts = 0;
  std::uint64_t fast_retransmits = 0;  // recoveries entered on the third duplicate ACK
  std::uint64_t rto_timeouts = 0;      // retransmission timeouts of data or FIN
  std::uint64_t idle_restarts = 0;     // cwnd cut to the restart window after idle (RFC 5681 4.1)
  std::uint64_t window_probes = 0;     // zero-window probes sent
  std::uint64_t paws_rejected = 0;     // segments dropped as old duplicates (RFC 7323 5.3)
  std::uint64_t ooo_segments = 0;      // segments queued out of order
  std::uint64_t oow_acks_suppressed = 0;      // ACKs not sent to unacceptable segments (rate limit)
  std::uint64_t data_after_close_resets = 0;  // RSTs for data arriving after close() (SHLD-3)
  std::uint64_t invariant_violations = 0;
};

}  // namespace synack::stack
