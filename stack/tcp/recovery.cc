// Round-trip estimation (RFC 6298) and loss recovery: duplicate ACKs, fast retransmit and
// NewReno fast recovery (RFC 5681 3.2, RFC 6582). How cwnd grows is the congestion control
// algorithm's (congestion.h); when to retransmit what is here.
#include <algorithm>

#include "stack/tcp/engine.h"

namespace synack::stack {
namespace {

constexpr int kDupThresh = 3;     // RFC 5681 3.2
constexpr Duration kClock = 1ms;  // G, the clock granularity of RFC 6298 2 (TSval ticks in ms)
constexpr Duration kSynFallbackRto = 3s;  // RFC 6298 5.7

}  // namespace

Duration Engine::base_rto(const Tcb& t) const {
  if (!t.srtt) {
    // RFC 6298 2.1: 1 s before any measurement; 5.7: 3 s if the SYN (or SYN,ACK) had to be
    // retransmitted and no sample came from the handshake.
    return t.syn_retransmitted ? std::max(config_.initial_rto, kSynFallbackRto)
                               : config_.initial_rto;
  }
  // RFC 6298 2.3: RTO = SRTT + max(G, K * RTTVAR), K = 4; 2.4 and 2.5: bounded below by the
  // minimum (200 ms, as Linux; the RFC's 1 s is a SHOULD) and above by the maximum.
  const Duration rto = *t.srtt + std::max(kClock, 4 * t.rttvar);
  return std::clamp(rto, config_.min_rto, config_.max_rto);
}

void Engine::rtt_sample(Tcb& t, Duration r) {
  if (r.count() < 0) return;
  if (!t.srtt) {
    // RFC 6298 2.2: the first measurement.
    t.srtt = r;
    t.rttvar = r / 2;
  } else {
    // RFC 6298 2.3 with alpha = 1/8, beta = 1/4; RTTVAR first, from the old SRTT.
    const Duration delta = *t.srtt > r ? *t.srtt - r : r - *t.srtt;
    t.rttvar = (3 * t.rttvar + delta) / 4;
    t.srtt = (7 * *t.srtt + r) / 8;
  }
  t.rto = base_rto(t);
}

std::uint32_t Engine::flight_size(const Tcb& t) const {
  // RFC 5681 2: FlightSize, the data sent but not yet acknowledged.
  return distance(t.snd_una, t.snd_max);
}

void Engine::enter_recovery(Tcb& t) {
  // RFC 6582 3.2 step 2 (RFC 5681 3.2 steps 2-4): ssthresh from the congestion control
  // algorithm, "recover" = the highest sequence number sent, retransmit the first unacknowledged
  // segment, and inflate cwnd by the three segments that have left the network.
  const std::uint32_t mss = t.snd_mss;
  t.cong.ssthresh = t.cc->ssthresh_after_loss(t.cong, flight_size(t), mss);
  t.recover = t.snd_max;
  t.in_recovery = true;
  ++counters_.fast_retransmits;
  const std::uint32_t sent = resend(t, t.snd_una, mss);
  t.high_rxt = t.snd_una + sent;
  t.rtx_deadline.reset();
  arm_rtx(t);
  if (t.sack_permitted) {
    // RFC 6675 5 (4.2): cwnd = ssthresh, no inflation: the pipe estimate counts what has left
    // the network from the SACK information instead.
    t.cong.cwnd = t.cong.ssthresh;
    sack_retransmit(t);
    output(t);  // a duplicate ACK: the window it carries is the one already taken
    sack_retransmit_holes(t);
    return;
  }
  t.cong.cwnd = t.cong.ssthresh + kDupThresh * std::uint32_t{mss};
}

void Engine::sack_retransmit(Tcb& t) {
  // RFC 6675 5 (C): while cwnd - pipe >= 1 SMSS, send NextSeg(): first the lost holes (rule 1).
  // New data (rule 2) is output()'s, which weighs it against the same pipe and the peer's
  // window; the caller calls it once SND.WND is the one the ACK carries.
  sack_resend_while_pipe_allows(t, /*lost_only=*/true);
}

void Engine::sack_retransmit_holes(Tcb& t) {
  // RFC 6675 4, NextSeg rule (3) (a SHOULD): when no lost hole is left (rule 1) and output()
  // could send no new data (rule 2: the peer's window, or nothing written), a hole below SACKed
  // data that is not yet deemed lost goes anyway, while cwnd - pipe >= 1 SMSS. Rule (4), the
  // rescue retransmission (a MAY), is not used.
  if (!t.in_recovery || !t.sack_permitted) return;
  sack_resend_while_pipe_allows(t, /*lost_only=*/false);
}

void Engine::sack_resend_while_pipe_allows(Tcb& t, bool lost_only) {
  const std::uint32_t mss = t.snd_mss;
  for (;;) {
    const std::uint32_t pipe = t.scoreboard.pipe(t.snd_una, t.snd_max, t.high_rxt, mss);
    if (t.cong.cwnd < pipe + mss) break;
    const auto hole = lost_only ? t.scoreboard.next_seg(t.snd_una, t.snd_max, t.high_rxt, mss)
                                : t.scoreboard.next_seg_hole(t.snd_una, t.snd_max, t.high_rxt, mss);
    if (!hole) break;
    const std::uint32_t sent = resend(t, hole->first, hole->second);
    if (sent == 0) break;
    t.high_rxt = hole->first + sent;
  }
}

void Engine::on_duplicate_ack(Tcb& t) {
  if (t.cc == nullptr) return;
  if (t.in_recovery) {
    if (t.sack_permitted) {
      sack_retransmit(t);  // the ACK's SACK blocks have changed the pipe
      output(t);
      sack_retransmit_holes(t);
      return;
    }
    // RFC 6582 3.2 step 4: each further duplicate ACK means a segment has left the network.
    t.cong.cwnd += t.snd_mss;
    output(t);
    return;
  }
  ++t.dupacks;
  // RFC 5681 3.2: the third duplicate ACK; with SACK also as soon as the scoreboard says the
  // first unacknowledged segment is lost (RFC 6675 5, IsLost(HighACK + 1)).
  const bool sack_says_lost = t.sack_permitted && t.scoreboard.is_lost(t.snd_una, t.snd_mss);
  if (t.dupacks < kDupThresh && !sack_says_lost) return;
  // RFC 6582 3.2 step 2: fast retransmit only if the ACK covers "recover" (the RFC's recover is
  // the highest sequence number sent, ours the one after it), so that duplicate ACKs provoked by
  // the retransmissions after a timeout do not start a second recovery.
  if (!t.snd_una.after_eq(t.recover)) return;
  enter_recovery(t);
}

void Engine::on_new_ack(Tcb& t, const Segment& seg, std::uint32_t acked) {
  if (t.cc == nullptr) return;
  const std::uint32_t mss = t.snd_mss;
  if (t.in_recovery) {
    if (seg.ack.after_eq(t.recover)) {
      // RFC 6582 3.2 step 3, full acknowledgment: deflate to
      // min(ssthresh, max(FlightSize, SMSS) + SMSS) and leave fast recovery.
      t.cong.cwnd = std::min(t.cong.ssthresh, std::max(flight_size(t), std::uint32_t{mss}) + mss);
      t.in_recovery = false;
      t.dupacks = 0;
      return;
    }
    if (t.sack_permitted) {
      // RFC 6675: the pipe governs; the first hole goes at once unless already retransmitted
      // (as NewReno would: a partial ACK says it is lost too).
      if (!t.high_rxt.after(t.snd_una)) {
        const std::uint32_t sent = resend(t, t.snd_una, mss);
        t.high_rxt = t.snd_una + sent;
      }
      // New data waits for segment_arrives' output(), after the window update (RFC 9293
      // 3.10.7.4, fifth step): SND.WND is still the previous ACK's, and measured from the new
      // SND.UNA it would reach past the edge the peer offers (RFC 9293 3.8.6; RFC 6675 4,
      // NextSeg (2): new data only as far as the receiver's window allows).
      sack_retransmit(t);
      return;
    }
    // Partial acknowledgment (step 5): the next hole is lost too; retransmit it at once, deflate
    // cwnd by the data acknowledged and add back one SMSS if at least that much was.
    const std::uint32_t sent = resend(t, t.snd_una, mss);
    if (t.high_rxt.before(t.snd_una + sent)) t.high_rxt = t.snd_una + sent;
    t.cong.cwnd -= std::min(acked, t.cong.cwnd);
    if (acked >= mss) t.cong.cwnd += mss;
    t.cong.cwnd = std::max(t.cong.cwnd, std::uint32_t{mss});
    return;
  }
  t.dupacks = 0;
  t.cc->on_ack(t.cong, acked, mss);
}

}  // namespace synack::stack
