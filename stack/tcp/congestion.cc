#include "stack/tcp/congestion.h"

#include <limits>

namespace synack::stack {

void CongestionControl::init(CongestionState& s, std::uint32_t smss,
                             std::uint32_t initial_segments) const {
  // RFC 6928 2 (and RFC 5681 3.1 for the two-segment floor).
  s.cwnd = std::max<std::uint32_t>(initial_segments, 2) * smss;
  // RFC 5681 3.1: "the initial value of ssthresh SHOULD be set arbitrarily high".
  s.ssthresh = std::numeric_limits<std::uint32_t>::max() / 2;
  s.bytes_acked = 0;
}

void NewReno::on_ack(CongestionState& s, std::uint32_t acked, std::uint32_t smss) const {
  constexpr std::uint32_t kMaxCwnd = std::numeric_limits<std::uint32_t>::max() / 4;
  if (s.cwnd < s.ssthresh) {
    // Slow start, RFC 5681 (2): cwnd += min(N, SMSS).
    s.cwnd = std::min(s.cwnd + std::min(acked, smss), kMaxCwnd);
    s.bytes_acked = 0;
    return;
  }
  // Congestion avoidance, RFC 5681 3.1: one SMSS per RTT, counted in bytes (RFC 3465 2.1).
  s.bytes_acked += acked;
  if (s.bytes_acked >= s.cwnd) {
    s.bytes_acked -= s.cwnd;
    s.cwnd = std::min(s.cwnd + smss, kMaxCwnd);
  }
}

std::uint32_t NewReno::ssthresh_after_loss(const CongestionState& /*s*/, std::uint32_t flight_size,
                                           std::uint32_t smss) const {
  return std::max(flight_size / 2, 2 * smss);  // RFC 5681 (4)
}

const CongestionControl& newreno() {
  static const NewReno kAlgorithm;
  return kAlgorithm;
}

}  // namespace synack::stack
