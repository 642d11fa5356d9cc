#include "stack/tcp/sack_scoreboard.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace synack::stack {

namespace {

std::string seq_str(SeqNum s) { return std::to_string(s.value()); }

bool fail(std::string* why, std::string message) {
  if (why != nullptr) *why = std::move(message);
  return false;
}

SeqNum later(SeqNum a, SeqNum b) { return a.after(b) ? a : b; }
SeqNum earlier(SeqNum a, SeqNum b) { return a.before(b) ? a : b; }

// IsLost for an octet with `ranges_above` discontiguous SACKed ranges and `sacked_above` SACKed
// octets above it (RFC 6675 section 4).
bool lost_given(std::uint32_t ranges_above, std::uint64_t sacked_above, std::uint32_t smss) {
  return ranges_above >= SackScoreboard::kDupThresh ||
         sacked_above > std::uint64_t{SackScoreboard::kDupThresh - 1} * smss;
}

}  // namespace

void SackScoreboard::update(SeqNum snd_una, SeqNum snd_max, std::span<const SackBlock> blocks) {
  if (snd_max.before(snd_una)) {
    clear();
    return;
  }
  trim(snd_una, snd_max);
  for (const SackBlock& b : blocks) {
    // Both edges in [snd_una, snd_max], in order, and not absurdly long.
    if (!b.left.between(snd_una, snd_max) || !b.right.between(snd_una, snd_max)) continue;
    if (!b.left.before(b.right) || distance(b.left, b.right) > kMaxBlockLength) continue;
    add(b);
  }
}

void SackScoreboard::trim(SeqNum snd_una, SeqNum snd_max) {
  // Octets below snd_una are cumulatively acknowledged (RFC 6675 section 4, Update()): they
  // leave the scoreboard, SACKed or not.
  std::size_t gone = 0;
  while (gone < ranges_.size() && ranges_[gone].right.before_eq(snd_una)) {
    sacked_bytes_ -= distance(ranges_[gone].left, ranges_[gone].right);
    ++gone;
  }
  ranges_.erase(ranges_.begin(), ranges_.begin() + static_cast<std::ptrdiff_t>(gone));
  if (!ranges_.empty() && ranges_.front().left.before(snd_una)) {
    sacked_bytes_ -= distance(ranges_.front().left, snd_una);
    ranges_.front().left = snd_una;
  }
  // Nothing can be SACKed at or past snd_max; only a caller that moved snd_max back gets here.
  while (!ranges_.empty() && ranges_.back().left.after_eq(snd_max)) {
    sacked_bytes_ -= distance(ranges_.back().left, ranges_.back().right);
    ranges_.pop_back();
  }
  if (!ranges_.empty() && ranges_.back().right.after(snd_max)) {
    sacked_bytes_ -= distance(snd_max, ranges_.back().right);
    ranges_.back().right = snd_max;
  }
}

void SackScoreboard::add(SackBlock b) {
  // [first, last): the ranges that overlap b or touch it at either end; they merge with it.
  const auto first = std::partition_point(
      ranges_.begin(), ranges_.end(), [&](const SackBlock& r) { return r.right.before(b.left); });
  const auto last = std::partition_point(
      first, ranges_.end(), [&](const SackBlock& r) { return r.left.before_eq(b.right); });
  if (first == last) {
    ranges_.insert(first, b);
    sacked_bytes_ += distance(b.left, b.right);
  } else {
    SackBlock merged{earlier(b.left, first->left), later(b.right, std::prev(last)->right)};
    for (auto it = first; it != last; ++it) sacked_bytes_ -= distance(it->left, it->right);
    sacked_bytes_ += distance(merged.left, merged.right);
    *first = merged;
    ranges_.erase(std::next(first), last);
  }
  // The range cap: forget the shortest range, the highest of equals (the file comment says why).
  if (ranges_.size() > kMaxRanges) {
    std::size_t victim = 0;
    for (std::size_t i = 1; i < ranges_.size(); ++i) {
      if (distance(ranges_[i].left, ranges_[i].right) <=
          distance(ranges_[victim].left, ranges_[victim].right)) {
        victim = i;
      }
    }
    sacked_bytes_ -= distance(ranges_[victim].left, ranges_[victim].right);
    ranges_.erase(ranges_.begin() + static_cast<std::ptrdiff_t>(victim));
  }
}

bool SackScoreboard::is_sacked(SeqNum s) const {
  // The first range that ends after s is the only one that can hold it.
  const auto it = std::partition_point(ranges_.begin(), ranges_.end(),
                                       [&](const SackBlock& r) { return r.right.before_eq(s); });
  return it != ranges_.end() && it->left.before_eq(s);
}

std::optional<SeqNum> SackScoreboard::highest_sacked() const {
  if (ranges_.empty()) return std::nullopt;
  return ranges_.back().right;
}

void SackScoreboard::clear() {
  ranges_.clear();
  sacked_bytes_ = 0;
}

bool SackScoreboard::is_lost(SeqNum seq, std::uint32_t smss) const {
  // The octets "with sequence numbers greater than SeqNum" start at seq + 1.
  const SeqNum above = seq + 1;
  std::uint32_t ranges_above = 0;
  std::uint64_t sacked_above = 0;
  for (std::size_t i = ranges_.size(); i-- > 0;) {  // highest first
    const SackBlock& r = ranges_[i];
    if (r.right.before_eq(above)) break;  // this range and all below it end at or below seq
    sacked_above += distance(later(r.left, above), r.right);
    ++ranges_above;
  }
  return lost_given(ranges_above, sacked_above, smss);
}

std::uint32_t SackScoreboard::pipe(SeqNum snd_una, SeqNum snd_max, SeqNum high_rxt,
                                   std::uint32_t smss) const {
  if (!snd_una.before(snd_max)) return 0;
  // The retransmitted octets are [snd_una, rxt_end).
  SeqNum rxt_end = high_rxt;
  if (high_rxt.before(snd_una)) rxt_end = snd_una;
  if (high_rxt.after(snd_max)) rxt_end = snd_max;

  std::uint64_t pipe = 0;
  std::uint32_t ranges_above = 0;
  std::uint64_t sacked_above = 0;
  // Each hole [lo, hi) is a run of octets not SACKed, all with the same SACKed data above.
  const auto count_hole = [&](SeqNum lo, SeqNum hi) {
    if (!lo.before(hi)) return;
    if (!lost_given(ranges_above, sacked_above, smss)) pipe += distance(lo, hi);  // (a)
    if (lo.before(rxt_end)) pipe += distance(lo, earlier(hi, rxt_end));           // (b)
  };
  // Walk down from snd_max so that what is SACKed above each hole is known when it is reached.
  SeqNum hole_end = snd_max;
  for (std::size_t i = ranges_.size(); i-- > 0;) {  // highest first
    const SackBlock& r = ranges_[i];
    const SeqNum left = later(r.left, snd_una);
    const SeqNum right = earlier(r.right, snd_max);
    if (!left.before(right)) continue;  // outside [snd_una, snd_max): the caller skipped update()
    count_hole(right, hole_end);
    sacked_above += distance(left, right);
    ++ranges_above;
    hole_end = left;
  }
  count_hole(snd_una, hole_end);
  return static_cast<std::uint32_t>(
      std::min<std::uint64_t>(pipe, std::numeric_limits<std::uint32_t>::max()));
}

std::optional<std::pair<SeqNum, std::uint32_t>> SackScoreboard::first_hole(
    SeqNum snd_una, SeqNum snd_max, SeqNum high_rxt, std::uint32_t smss, bool must_be_lost) const {
  if (smss == 0) return std::nullopt;
  SeqNum s2 = later(high_rxt, snd_una);  // (1.a), with high_rxt one past RFC 6675's HighRxt
  for (const SackBlock& r : ranges_) {
    if (r.right.before_eq(s2)) continue;  // wholly below the candidate
    if (r.left.before_eq(s2)) {
      s2 = r.right;  // the candidate is SACKed: the next one is where this range ends
      continue;
    }
    // s2 is in the hole before r, so below the highest SACKed octet (1.b).
    if (!s2.before(snd_max)) return std::nullopt;
    // (1.c). IsLost can only turn false going up, so if s2 fails no later octet passes.
    if (must_be_lost && !is_lost(s2, smss)) return std::nullopt;
    return std::pair{s2, std::min(smss, distance(s2, r.left))};
  }
  return std::nullopt;  // nothing SACKed above s2: new data (rule 2) is the caller's
}

std::optional<std::pair<SeqNum, std::uint32_t>> SackScoreboard::next_seg(SeqNum snd_una,
                                                                         SeqNum snd_max,
                                                                         SeqNum high_rxt,
                                                                         std::uint32_t smss) const {
  return first_hole(snd_una, snd_max, high_rxt, smss, /*must_be_lost=*/true);
}

std::optional<std::pair<SeqNum, std::uint32_t>> SackScoreboard::next_seg_hole(
    SeqNum snd_una, SeqNum snd_max, SeqNum high_rxt, std::uint32_t smss) const {
  return first_hole(snd_una, snd_max, high_rxt, smss, /*must_be_lost=*/false);
}

std::optional<std::pair<SeqNum, std::uint32_t>> SackScoreboard::rescue_seg(
    SeqNum snd_una, SeqNum snd_max, std::uint32_t smss) const {
  if (smss == 0 || !snd_una.before(snd_max)) return std::nullopt;
  // top: one past the highest octet not SACKed; floor: where the hole holding it begins.
  SeqNum top = snd_max;
  SeqNum floor = snd_una;
  for (std::size_t i = ranges_.size(); i-- > 0;) {  // highest first
    const SackBlock& r = ranges_[i];
    if (r.left.after_eq(top)) continue;  // past snd_max: the caller skipped update()
    if (r.right.after_eq(top)) {
      top = r.left;  // SACKed up to top: look below it
      continue;
    }
    floor = later(r.right, snd_una);
    break;
  }
  if (!top.after(snd_una)) return std::nullopt;  // every outstanding octet is SACKed
  const std::uint32_t length = std::min(smss, distance(floor, top));
  return std::pair{top - length, length};
}

bool SackScoreboard::check(SeqNum snd_una, SeqNum snd_max, std::string* why) const {
  if (ranges_.size() > kMaxRanges) {
    return fail(why, "scoreboard: " + std::to_string(ranges_.size()) + " ranges, more than " +
                         std::to_string(kMaxRanges));
  }
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < ranges_.size(); ++i) {
    const SackBlock& r = ranges_[i];
    // Built only for a failure: this check runs after every segment.
    const auto name = [&] {
      return "scoreboard: range " + std::to_string(i) + " [" + seq_str(r.left) + ", " +
             seq_str(r.right) + ")";
    };
    if (!r.left.before(r.right)) return fail(why, name() + " is empty or reversed");
    if (r.left.before(snd_una)) {
      return fail(why, name() + " starts before snd_una " + seq_str(snd_una));
    }
    if (r.right.after(snd_max)) {
      return fail(why, name() + " ends after snd_max " + seq_str(snd_max));
    }
    if (i > 0 && !r.left.after(ranges_[i - 1].right)) {
      return fail(why, name() + " overlaps or touches the range before it, which ends at " +
                           seq_str(ranges_[i - 1].right));
    }
    total += distance(r.left, r.right);
  }
  if (total != sacked_bytes_) {
    return fail(why, "scoreboard: SACKed byte count " + std::to_string(sacked_bytes_) +
                         " but the ranges hold " + std::to_string(total));
  }
  return true;
}

}  // namespace synack::stack
