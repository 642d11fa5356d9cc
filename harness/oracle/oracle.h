// The black-box oracle: invariants that any TCP implementation must keep, judged from the
// segment stream between the harness (the remote peer) and the target alone, plus what the
// target's application wrote and read. It shares no code with stack/ (sharing code would share
// bugs); it reads packets through the harness codec (harness/wire).
//
// Usage: feed every segment in either direction, in the order seen, to on_segment(); report the
// application's successful writes and reads with on_app_write() / on_app_read() in causal order
// (a write before any segment that carries its bytes, a read after the segments that brought
// them); call finish() at the end of the run. Every invariant is checked as soon as it can be
// decided, so violations() grows on the call that exposed the problem (a fuzzer can stop there).
//
// Invariants (the stable names used in reports), about segments from the target unless said:
//   checksum                   IP and TCP checksums verify.
//   options-well-formed        No known option kind (MSS, WS, SACK-permitted, SACK, TS) with a
//                              bad length; no SACK without blocks; MSS, WS and SACK-permitted
//                              only on SYNs; WS shift <= 14; each kind at most once; WS/TS on a
//                              SYN-ACK only when the peer's SYN had them (RFC 7323 2.2, 3.2); TS on
//                              every non-RST segment once both SYNs carried TS, never on a non-SYN
//                              segment otherwise; SACK blocks only when both SYNs had
//                              SACK-permitted (RFC 2018 3).
//   ack-monotonic              The ACK number never moves backwards on a connection.
//   ack-covers-unsent          The ACK never covers sequence space the peer has not sent: beyond
//                              the end of what it sent contiguously from its ISN (SYN and FIN
//                              count).
//   send-within-window         No new data beyond the right edge of the peer's window
//                              (SND.UNA + SND.WND, SND.WND from SEG.WND, scaled on non-SYN
//                              segments when both SYNs carried WS), except one byte at the edge
//                              (a zero-window probe). Data sent before may be retransmitted past
//                              a window that shrank (RFC 9293 3.8.6.1).
//   retransmission-same-bytes  Bytes sent again at a sequence number carry the same values as the
//                              first transmission.
//   nothing-after-fin          After its FIN at F: no data at F or later, and no FIN elsewhere.
//   nothing-after-rst          After it reset a connection: nothing on that 4-tuple but RSTs that
//                              answer later segments, until a new SYN starts a new connection.
//   rst-reply-form             A RST answering a segment for which it has no connection has the
//                              RFC 9293 3.10.7.1 form: <SEQ=SEG.ACK><CTL=RST> if that segment had
//                              ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. A RST never
//                              answers a RST. (Also used for RSTs answering an unacceptable ACK in
//                              SYN-SENT / SYN-RECEIVED, which have the same form.)
//   challenge-ack              RFC 5961 3.2 and 4.2: after an in-window RST whose seq is not
//                              RCV.NXT, or any SYN, on an established connection, the next
//                              segment from the target is neither a RST nor a SYN (nor a SYN-ACK
//                              opening a new connection), and a bare ACK in reply has SEQ =
//                              SND.NXT and ACK = RCV.NXT. Silence is allowed (rate limiting).
//   rto-never-shrinks          Between consecutive transmissions of the same segment (same seq,
//                              same flags but PSH) with no segment from the peer in between, the
//                              interval never decreases (1 ms of slack by default).
//   stream-integrity           What the application read is, in order and exactly once, the byte
//                              stream the peer sent (by sequence number); the data the target sent
//                              is, by sequence number, what its application wrote.
//
// What the oracle cannot see, it does not guess. Where the target's state is uncertain from the
// stream alone (whether it took a segment at all; RCV.NXT while the peer has data the target has
// not acknowledged yet; which window it holds; whether a timer ended the connection silently;
// which copy of overlapping, differing data it kept), a check is made only against every value
// the target could legitimately hold, or skipped; oracle.cc says where, case by case.
// Application calls on a ConnKey belong to the current incarnation of that 4-tuple (the latest
// one a SYN started).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "harness/wire/ipv4.h"
#include "harness/wire/tcp.h"

namespace synack::oracle {

// Stable invariant names.
namespace invariant {
inline constexpr std::string_view kChecksum = "checksum";
inline constexpr std::string_view kOptionsWellFormed = "options-well-formed";
inline constexpr std::string_view kAckMonotonic = "ack-monotonic";
inline constexpr std::string_view kAckCoversUnsent = "ack-covers-unsent";
inline constexpr std::string_view kSendWithinWindow = "send-within-window";
inline constexpr std::string_view kRetransmissionSameBytes = "retransmission-same-bytes";
inline constexpr std::string_view kNothingAfterFin = "nothing-after-fin";
inline constexpr std::string_view kNothingAfterRst = "nothing-after-rst";
inline constexpr std::string_view kRstReplyForm = "rst-reply-form";
inline constexpr std::string_view kChallengeAck = "challenge-ack";
inline constexpr std::string_view kRtoNeverShrinks = "rto-never-shrinks";
inline constexpr std::string_view kStreamIntegrity = "stream-integrity";
}  // namespace invariant

// Every invariant name above, in the order listed.
std::span<const std::string_view> invariant_names();

enum class Direction { kToTarget, kFromTarget };

// A connection's 4-tuple seen from the target: local address/port are the target's, remote are
// the harness peer's.
struct ConnKey {
  wire::Ipv4Addr target_addr;
  std::uint16_t target_port = 0;
  wire::Ipv4Addr peer_addr;
  std::uint16_t peer_port = 0;

  // The key of the connection a segment travelling in direction `d` belongs to.
  static ConnKey of(Direction d, const wire::TcpPacket& p);
  // "target 10.0.0.1:80 <> peer 10.0.0.2:1234"
  std::string to_string() const;
  friend bool operator==(const ConnKey&, const ConnKey&) = default;
  friend bool operator<(const ConnKey& a, const ConnKey& b);
};

struct Violation {
  std::string invariant;  // one of the names in `invariant`
  std::string detail;     // connection, offending segment (tcpdump style), what was expected
  std::int64_t time_us = 0;
  // "[12.345678 s] ack-monotonic: target 10.0.0.1:80 <> peer ...: <segment>: ack 1000 is ..."
  std::string to_string() const;
};

struct OracleOptions {
  // The application's writes are reported through on_app_write(). When false, the half of
  // stream-integrity that compares sent data with written data is off (reads are still checked).
  bool app_writes_observed = true;
  // Slack allowed to a retransmission interval that is shorter than the previous one.
  std::int64_t rto_slack_us = 1000;
  // On a real-time target, also this share of the previous interval: a kernel's timer wheel
  // rounds long timers (Linux at HZ 250: up to about 2 s at 120 s), so two retransmissions at
  // the RTO cap can come a little less than one cap apart.
  double rto_slack_percent = 0;
  // Violations beyond this many are counted but not stored.
  std::size_t max_violations = 1000;
};

class Oracle {
 public:
  // The time of a violation found by an application call: that of the latest segment.
  static constexpr std::int64_t kLatestSegmentTime = std::numeric_limits<std::int64_t>::min();

  explicit Oracle(OracleOptions options = {});
  ~Oracle();
  // A moved-from oracle may only be destroyed or assigned to.
  Oracle(Oracle&&) noexcept;
  Oracle& operator=(Oracle&&) noexcept;
  Oracle(const Oracle&) = delete;
  Oracle& operator=(const Oracle&) = delete;

  // Every segment in either direction, in the order seen, with its time in microseconds.
  void on_segment(Direction d, const wire::TcpPacket& p, std::int64_t time_us);
  // Bytes the target's application successfully wrote / read on the connection `k` (the
  // current incarnation of that 4-tuple).
  void on_app_write(const ConnKey& k, std::span<const std::uint8_t> bytes,
                    std::int64_t time_us = kLatestSegmentTime);
  void on_app_read(const ConnKey& k, std::span<const std::uint8_t> bytes,
                   std::int64_t time_us = kLatestSegmentTime);
  // The end of the run. No invariant needs more than the stream so far (a run may end
  // mid-stream), so this only releases per-connection state; the oracle can be fed again after,
  // as if from the start (violations found so far are kept).
  void finish(std::int64_t time_us);

  const std::vector<Violation>& violations() const;
  // All violations found, including any beyond OracleOptions::max_violations.
  std::size_t violation_count() const;
  bool ok() const { return violation_count() == 0; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace synack::oracle
