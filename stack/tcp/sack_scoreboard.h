// The sender's SACK scoreboard for conservative loss recovery (RFC 6675 sections 2-5): which
// outstanding sequence numbers the receiver has reported in SACK blocks (RFC 2018), and the
// RFC 6675 section 4 routines computed from it: IsLost, SetPipe and NextSeg.
//
// Self-contained: it knows nothing of the TCB. The engine owns one per connection and passes
// SND.UNA (the RFC's HighACK), SND.MAX (one past HighData, the highest octet sent) and the
// retransmission mark on every call. All ranges are half-open [left, right) in SeqNum arithmetic,
// so everything works across the 2^32 wrap.
//
// HighRxt convention: `high_rxt` here is one past the highest octet retransmitted in the current
// recovery (RFC 6675's HighRxt + 1), so "S <= HighRxt" reads "S before high_rxt" and
// "S > HighRxt" reads "S at or after high_rxt". Entering recovery, the caller sets
// high_rxt = SND.UNA (nothing retransmitted yet).
//
// Choices and limits:
//  - IsLost in byte terms (section 4): an octet S is lost when DupThresh or more discontiguous
//    SACKed ranges lie (at least partly) above S, or more than (DupThresh - 1) * SMSS SACKed octets
//    have sequence numbers greater than S. Segment boundaries are not recorded, so the RFC's
//    "DupThresh discontiguous SACKed sequences" is counted as merged ranges.
//  - At most kMaxRanges ranges are kept. Past that, the smallest is forgotten (the highest of
//    equal ones). Forgetting a SACKed range is always safe, only slower: its octets count as in
//    flight again and may be retransmitted; RFC 2018 section 8 has the sender treat SACK
//    information as advisory anyway. The cheapest range to forget is the shortest.
//  - NextSeg rule (2), new data, needs the send buffer and the peer's window: it is the caller's,
//    tried when next_seg() returns nothing. Rule (3) is next_seg_hole() (the engine's
//    sack_retransmit_holes) and rule (4), the rescue retransmission, is rescue_seg(), which the
//    engine does not use (README, deviations); the caller would keep RescueRxt and its
//    condition.
//  - After a retransmission timeout RFC 6675 section 5.1 (and RFC 2018 section 8) have the sender
//    stop trusting the scoreboard: call clear() then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "stack/wire/segment.h"
#include "stack/wire/seq.h"

namespace synack::stack {

class SackScoreboard {
 public:
  // RFC 6675 section 2: DupThresh, the number of duplicate ACKs (here: SACKed ranges) that
  // signals a loss (RFC 5681).
  static constexpr std::uint32_t kDupThresh = 3;
  // The most ranges kept (see the file comment).
  static constexpr std::size_t kMaxRanges = 64;
  // Longer SACK blocks are rejected as absurd: the scaled window is at most 2^30 (RFC 7323 2.3).
  static constexpr std::uint32_t kMaxBlockLength = std::uint32_t{1} << 30;

  // Called on every ACK, with the blocks it carries (maybe none), after SND.UNA has advanced:
  // forgets what is now below snd_una (cumulatively acknowledged) or at or past snd_max, then
  // records the valid blocks. A block is ignored unless left < right, snd_una <= left,
  // right <= snd_max and right - left <= kMaxBlockLength: SACK information is advisory
  // (RFC 2018 section 8) and a block that cannot describe outstanding data is not believed (a
  // D-SACK block, RFC 2883, lies below snd_una and is ignored too). If snd_max is before snd_una
  // everything is forgotten.
  void update(SeqNum snd_una, SeqNum snd_max, std::span<const SackBlock> blocks);

  // The octet s has been SACKed.
  bool is_sacked(SeqNum s) const;
  // SACKed octets held.
  std::uint32_t sacked_bytes() const { return sacked_bytes_; }
  // One past the highest SACKed octet, or nothing when nothing is SACKed.
  std::optional<SeqNum> highest_sacked() const;
  // The SACKed ranges, sorted, merged (neither overlapping nor adjacent).
  std::span<const SackBlock> ranges() const { return ranges_; }
  bool empty() const { return ranges_.empty(); }
  void clear();

  // RFC 6675 section 4, IsLost(SeqNum): see the file comment for the byte-level reading.
  bool is_lost(SeqNum seq, std::uint32_t smss) const;

  // RFC 6675 section 4, SetPipe: the octets in [snd_una, snd_max) not SACKed, each counted once
  // if IsLost is false for it and once more if it is before high_rxt (it was retransmitted).
  // Computed hole by hole: every octet of one hole has the same SACKed data above it, so IsLost
  // has one value per hole.
  std::uint32_t pipe(SeqNum snd_una, SeqNum snd_max, SeqNum high_rxt, std::uint32_t smss) const;

  // RFC 6675 section 4, NextSeg rule (1): the lowest octet S2 not SACKed with
  // S2 >= max(high_rxt, snd_una) (1.a), below the highest SACKed octet (1.b), and IsLost (1.c);
  // returns (S2, length), the length up to smss but stopping at the next SACKed range. Nothing
  // if there is no such octet or smss is 0. If the lowest candidate is not lost no higher one is
  // (less is SACKed above it), so only that one is tested.
  std::optional<std::pair<SeqNum, std::uint32_t>> next_seg(SeqNum snd_una, SeqNum snd_max,
                                                           SeqNum high_rxt,
                                                           std::uint32_t smss) const;
  // NextSeg rule (3), for when rules (1) and (2) found nothing: as next_seg() without IsLost
  // (the SHOULD to retransmit a hole below SACKed data that is not yet deemed lost).
  std::optional<std::pair<SeqNum, std::uint32_t>> next_seg_hole(SeqNum snd_una, SeqNum snd_max,
                                                                SeqNum high_rxt,
                                                                std::uint32_t smss) const;
  // NextSeg rule (4), the rescue retransmission: the segment of up to smss octets ending at the
  // highest octet in [snd_una, snd_max) not SACKed (and not reaching below the hole holding it).
  // Nothing if every outstanding octet is SACKed or smss is 0. The caller checks the rule's
  // condition (HighACK > RescueRxt, or RescueRxt undefined), sets RescueRxt = RecoveryPoint and
  // leaves high_rxt alone.
  std::optional<std::pair<SeqNum, std::uint32_t>> rescue_seg(SeqNum snd_una, SeqNum snd_max,
                                                             std::uint32_t smss) const;

  // White-box invariants for the engine: ranges non-empty, sorted, merged, within
  // [snd_una, snd_max], at most kMaxRanges, and the byte count right. Says why in *why.
  bool check(SeqNum snd_una, SeqNum snd_max, std::string* why) const;

 private:
  void trim(SeqNum snd_una, SeqNum snd_max);
  void add(SackBlock b);
  std::optional<std::pair<SeqNum, std::uint32_t>> first_hole(SeqNum snd_una, SeqNum snd_max,
                                                             SeqNum high_rxt, std::uint32_t smss,
                                                             bool must_be_lost) const;

  std::vector<SackBlock> ranges_;  // [left, right), sorted, disjoint, non-adjacent
  std::uint32_t sacked_bytes_ = 0;
};

}  // namespace synack::stack
