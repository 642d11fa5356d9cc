// Congestion control: a small interface the engine calls at the points RFC 5681 names, and
// NewReno (RFC 5681 + RFC 6582) as the built-in algorithm.
//
// The shape follows Linux's tcp_congestion_ops: the algorithm decides how cwnd grows and what
// ssthresh becomes on a loss; the engine owns the loss-recovery state machine (duplicate-ACK
// counting, fast retransmit, NewReno's partial ACKs, RFC 6675's pipe) because that is the same
// for every algorithm. Algorithms are stateless singletons; their per-connection state lives
// in CongestionState inside the TCB, so a connection costs no allocation.
#pragma once

#include <algorithm>
#include <cstdint>

namespace synack::stack {

struct CongestionState {
  std::uint32_t cwnd = 0;         // bytes
  std::uint32_t ssthresh = 0;     // bytes; "arbitrarily high" until the first loss (RFC 5681 3.1)
  std::uint32_t bytes_acked = 0;  // congestion avoidance: bytes acknowledged towards the next MSS
};

class CongestionControl {
 public:
  virtual ~CongestionControl() = default;
  virtual const char* name() const = 0;
  // The window a connection starts with (RFC 6928: IW = initial_segments * SMSS, by default
  // ten segments, bounded below by two).
  virtual void init(CongestionState& s, std::uint32_t smss, std::uint32_t initial_segments) const;
  // New data was cumulatively acknowledged outside loss recovery (RFC 5681 3.1).
  virtual void on_ack(CongestionState& s, std::uint32_t acked, std::uint32_t smss) const = 0;
  // A loss was detected (third duplicate ACK or a timeout): the new ssthresh, RFC 5681 (4).
  virtual std::uint32_t ssthresh_after_loss(const CongestionState& s, std::uint32_t flight_size,
                                            std::uint32_t smss) const = 0;
};

// RFC 5681: slow start while cwnd < ssthresh (cwnd += min(N, SMSS) per ACK, N the bytes it
// newly acknowledges), then congestion avoidance (cwnd grows by one SMSS per cwnd of data
// acknowledged: the "appropriate byte counting" form of equation (3), RFC 3465); on loss
// ssthresh = max(FlightSize / 2, 2 * SMSS). Fast recovery with partial ACKs (RFC 6582) is the
// engine's.
class NewReno final : public CongestionControl {
 public:
  const char* name() const override { return "newreno"; }
  void on_ack(CongestionState& s, std::uint32_t acked, std::uint32_t smss) const override;
  std::uint32_t ssthresh_after_loss(const CongestionState& s, std::uint32_t flight_size,
                                    std::uint32_t smss) const override;
};

const CongestionControl& newreno();

}  // namespace synack::stack
