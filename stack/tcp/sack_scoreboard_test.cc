#include "stack/tcp/sack_scoreboard.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace synack::stack {
namespace {

using Seg = std::optional<std::pair<SeqNum, std::uint32_t>>;

// Offsets are relative to `base`, the initial SND.UNA; SND.MAX starts 1000 past it.
class SackScoreboardTest : public ::testing::Test {
 protected:
  explicit SackScoreboardTest(std::uint32_t base = 5000) : base_(base) {}

  SeqNum at(std::uint32_t offset) const { return base_ + offset; }
  SackBlock block(std::uint32_t from, std::uint32_t to) const { return {at(from), at(to)}; }

  void update(std::initializer_list<SackBlock> blocks) {
    sb_.update(snd_una_, snd_max_, std::vector<SackBlock>(blocks));
    std::string why;
    EXPECT_TRUE(sb_.check(snd_una_, snd_max_, &why)) << why;
  }
  std::vector<SackBlock> ranges() const {
    return std::vector<SackBlock>(sb_.ranges().begin(), sb_.ranges().end());
  }
  std::uint32_t pipe(std::uint32_t high_rxt, std::uint32_t smss = 100) const {
    return sb_.pipe(snd_una_, snd_max_, at(high_rxt), smss);
  }
  Seg next_seg(std::uint32_t high_rxt, std::uint32_t smss = 100) const {
    return sb_.next_seg(snd_una_, snd_max_, at(high_rxt), smss);
  }
  Seg next_seg_hole(std::uint32_t high_rxt, std::uint32_t smss = 100) const {
    return sb_.next_seg_hole(snd_una_, snd_max_, at(high_rxt), smss);
  }
  Seg rescue_seg(std::uint32_t smss = 100) const {
    return sb_.rescue_seg(snd_una_, snd_max_, smss);
  }
  Seg seg(std::uint32_t from, std::uint32_t length) const { return std::pair{at(from), length}; }

  SeqNum base_;
  SeqNum snd_una_ = base_;
  SeqNum snd_max_ = base_ + 1000;
  SackScoreboard sb_;
};

TEST_F(SackScoreboardTest, StartsEmpty) {
  EXPECT_TRUE(sb_.empty());
  EXPECT_EQ(sb_.sacked_bytes(), 0U);
  EXPECT_EQ(sb_.highest_sacked(), std::nullopt);
  EXPECT_FALSE(sb_.is_sacked(at(0)));
  EXPECT_FALSE(sb_.is_lost(at(0), 100));
  EXPECT_EQ(pipe(0), 1000U);  // everything outstanding is in flight
  EXPECT_EQ(next_seg(0), std::nullopt);
  EXPECT_EQ(next_seg_hole(0), std::nullopt);
  EXPECT_EQ(rescue_seg(), seg(900, 100));  // the last segment's worth
  std::string why;
  EXPECT_TRUE(sb_.check(snd_una_, snd_max_, &why)) << why;
}

TEST_F(SackScoreboardTest, RecordsSortsAndMergesBlocks) {
  update({block(300, 400), block(100, 200), block(200, 250), block(350, 500)});
  EXPECT_EQ(ranges(), (std::vector{block(100, 250), block(300, 500)}));
  EXPECT_EQ(sb_.sacked_bytes(), 350U);
  EXPECT_EQ(sb_.highest_sacked(), at(500));
  EXPECT_FALSE(sb_.is_sacked(at(99)));
  EXPECT_TRUE(sb_.is_sacked(at(100)));
  EXPECT_TRUE(sb_.is_sacked(at(249)));
  EXPECT_FALSE(sb_.is_sacked(at(250)));
  EXPECT_FALSE(sb_.is_sacked(at(299)));
  EXPECT_TRUE(sb_.is_sacked(at(300)));
  EXPECT_TRUE(sb_.is_sacked(at(499)));
  EXPECT_FALSE(sb_.is_sacked(at(500)));
}

TEST_F(SackScoreboardTest, ABlockSpanningSeveralRangesMergesThemAll) {
  update({block(100, 110), block(200, 210), block(300, 310), block(400, 410)});
  EXPECT_EQ(ranges().size(), 4U);
  update({block(150, 305)});
  EXPECT_EQ(ranges(), (std::vector{block(100, 110), block(150, 310), block(400, 410)}));
  EXPECT_EQ(sb_.sacked_bytes(), 10U + 160U + 10U);
}

TEST_F(SackScoreboardTest, RepeatedBlocksAreCountedOnce) {
  // A receiver repeats its blocks in every ACK (RFC 2018 section 4).
  for (int i = 0; i < 5; ++i) update({block(100, 200), block(300, 400), block(150, 200)});
  EXPECT_EQ(sb_.sacked_bytes(), 200U);
  EXPECT_EQ(ranges().size(), 2U);
}

TEST_F(SackScoreboardTest, InvalidBlocksAreIgnored) {
  snd_una_ = at(100);
  update({
      block(200, 200),   // empty
      block(300, 250),   // reversed
      block(50, 150),    // starts before SND.UNA
      block(50, 100),    // a D-SACK (RFC 2883) of data already acknowledged
      block(900, 1001),  // ends after SND.MAX
      SackBlock{at(0x80000000U), at(0x80000010U)},  // nowhere near the window
  });
  EXPECT_TRUE(sb_.empty());
  update({block(100, 110), block(990, 1000)});  // both edges of the window are fine
  EXPECT_EQ(ranges(), (std::vector{block(100, 110), block(990, 1000)}));
}

TEST_F(SackScoreboardTest, AbsurdlyLongBlocksAreIgnored) {
  constexpr std::uint32_t kMax = SackScoreboard::kMaxBlockLength;
  snd_max_ = at(kMax + 100);
  update({block(10, kMax + 11)});
  EXPECT_TRUE(sb_.empty());
  update({block(10, kMax + 10)});
  EXPECT_EQ(sb_.sacked_bytes(), kMax);
}

TEST_F(SackScoreboardTest, CumulativeAckDiscardsWhatItCovers) {
  update({block(100, 200), block(300, 400)});
  snd_una_ = at(150);
  update({});
  EXPECT_EQ(ranges(), (std::vector{block(150, 200), block(300, 400)}));
  EXPECT_EQ(sb_.sacked_bytes(), 150U);
  snd_una_ = at(200);
  update({});
  EXPECT_EQ(ranges(), (std::vector{block(300, 400)}));
  snd_una_ = at(350);
  update({});
  EXPECT_EQ(ranges(), (std::vector{block(350, 400)}));
  EXPECT_EQ(sb_.sacked_bytes(), 50U);
  snd_una_ = at(400);
  update({});
  EXPECT_TRUE(sb_.empty());
  EXPECT_EQ(sb_.sacked_bytes(), 0U);
}

TEST_F(SackScoreboardTest, ShrunkSndMaxTrimsAndAReversedWindowClears) {
  update({block(100, 200), block(300, 400)});
  snd_max_ = at(350);
  update({});
  EXPECT_EQ(ranges(), (std::vector{block(100, 200), block(300, 350)}));
  snd_max_ = at(250);
  update({});
  EXPECT_EQ(ranges(), (std::vector{block(100, 200)}));
  sb_.update(at(300), at(200), {});
  EXPECT_TRUE(sb_.empty());
}

TEST_F(SackScoreboardTest, RangeCapForgetsTheShortestRange) {
  snd_max_ = at(100000);
  // 64 ranges of 10 octets 100 apart, except the tenth, of 3.
  for (std::uint32_t i = 0; i < SackScoreboard::kMaxRanges; ++i) {
    const std::uint32_t left = 100 * (i + 1);
    update({block(left, left + (i == 9 ? 3 : 10))});
  }
  EXPECT_EQ(ranges().size(), SackScoreboard::kMaxRanges);
  update({block(50000, 50010)});
  EXPECT_EQ(ranges().size(), SackScoreboard::kMaxRanges);
  EXPECT_FALSE(sb_.is_sacked(at(1000)));  // the short one went
  EXPECT_TRUE(sb_.is_sacked(at(50000)));
  EXPECT_EQ(sb_.sacked_bytes(), 10U * SackScoreboard::kMaxRanges);
  // All equal now: the highest goes, even when it is the one just added.
  update({block(60000, 60010)});
  EXPECT_FALSE(sb_.is_sacked(at(60000)));
  update({block(20, 30)});
  EXPECT_TRUE(sb_.is_sacked(at(20)));
  EXPECT_FALSE(sb_.is_sacked(at(50000)));
  EXPECT_EQ(sb_.sacked_bytes(), 10U * SackScoreboard::kMaxRanges);
}

// RFC 6675 section 4, IsLost: more than (DupThresh - 1) * SMSS octets SACKed above.
TEST_F(SackScoreboardTest, IsLostByteThreshold) {
  update({block(500, 700)});  // exactly 2 * SMSS
  EXPECT_FALSE(sb_.is_lost(at(100), 100));
  EXPECT_FALSE(sb_.is_lost(at(499), 100));
  update({block(700, 701)});  // one more octet
  EXPECT_TRUE(sb_.is_lost(at(100), 100));
  EXPECT_TRUE(sb_.is_lost(at(499), 100));
  // Only octets greater than SeqNum count: from inside the range, fewer do.
  EXPECT_FALSE(sb_.is_lost(at(500), 100));  // 200 octets above
  EXPECT_FALSE(sb_.is_lost(at(700), 100));
  EXPECT_FALSE(sb_.is_lost(at(800), 100));
  // The threshold scales with SMSS.
  EXPECT_FALSE(sb_.is_lost(at(100), 101));
  EXPECT_TRUE(sb_.is_lost(at(100), 100));
}

// RFC 6675 section 4, IsLost: DupThresh discontiguous SACKed ranges above.
TEST_F(SackScoreboardTest, IsLostRangeThreshold) {
  update({block(500, 501), block(600, 601)});
  EXPECT_FALSE(sb_.is_lost(at(100), 1000));  // two ranges, 2 octets
  update({block(700, 701)});
  EXPECT_TRUE(sb_.is_lost(at(100), 1000));  // three
  EXPECT_TRUE(sb_.is_lost(at(499), 1000));
  EXPECT_FALSE(sb_.is_lost(at(500), 1000));  // only two lie above 500
  EXPECT_FALSE(sb_.is_lost(at(550), 1000));
  // A range that SeqNum is inside still counts as one above it if it extends past it.
  update({block(500, 510)});
  EXPECT_TRUE(sb_.is_lost(at(500), 1000));
  EXPECT_FALSE(sb_.is_lost(at(509), 1000));
}

TEST_F(SackScoreboardTest, PipeWithoutRetransmissions) {
  // [0, 300) has 300 octets SACKed above it (> 2 * SMSS): lost, so not in flight.
  update({block(300, 600)});
  EXPECT_EQ(pipe(0), 400U);  // [600, 1000)
  // With only 200 above, nothing is lost.
  sb_.clear();
  update({block(300, 500)});
  EXPECT_EQ(pipe(0), 300U + 500U);
}

TEST_F(SackScoreboardTest, PipeCountsRetransmittedOctetsAgain) {
  update({block(300, 600)});
  EXPECT_EQ(pipe(100), 400U + 100U);
  EXPECT_EQ(pipe(300), 400U + 300U);
  EXPECT_EQ(pipe(450), 400U + 300U);  // SACKed octets never count
  // Retransmitted octets not deemed lost count twice.
  EXPECT_EQ(pipe(700), 400U + 300U + 100U);
  EXPECT_EQ(pipe(1000), 400U + 300U + 400U);
  // high_rxt outside [SND.UNA, SND.MAX] is clamped.
  EXPECT_EQ(pipe(5000), 400U + 300U + 400U);
  snd_una_ = at(100);
  update({});
  EXPECT_EQ(sb_.pipe(snd_una_, snd_max_, at(0), 100), 400U);
}

TEST_F(SackScoreboardTest, PipeJudgesEachHoleByWhatIsSackedAboveIt) {
  update({block(100, 150), block(200, 250), block(300, 350)});
  // [0, 100): three ranges above, lost. [150, 200): two ranges, 100 octets, not lost.
  // [250, 300): one range, not lost. [350, 1000): nothing above, not lost.
  EXPECT_EQ(pipe(0), 50U + 50U + 650U);
  // The byte threshold moves with SMSS: 100 octets above [150, 200) and 50 above [250, 300).
  EXPECT_EQ(pipe(0, 50), 50U + 50U + 650U);  // 100 is not more than 2 * 50
  EXPECT_EQ(pipe(0, 49), 50U + 650U);        // but is more than 2 * 49
  EXPECT_EQ(pipe(0, 25), 50U + 650U);        // 50 is not more than 2 * 25
  EXPECT_EQ(pipe(0, 24), 650U);
}

TEST_F(SackScoreboardTest, PipeIsZeroWithNothingOutstanding) {
  snd_una_ = snd_max_;
  update({});
  EXPECT_EQ(pipe(0), 0U);
}

TEST_F(SackScoreboardTest, NextSegWalksTheLostHolesInOrder) {
  snd_max_ = at(2000);
  update({block(500, 800), block(1000, 1100)});
  // [0, 500) is lost (300 + 100 SACKed above); [800, 1000) is not (100 above).
  EXPECT_EQ(next_seg(0), seg(0, 100));
  EXPECT_EQ(next_seg(100), seg(100, 100));
  EXPECT_EQ(next_seg(450), seg(450, 50));  // stops at the SACKed range
  EXPECT_EQ(next_seg(500), std::nullopt);  // the next hole is not lost
  EXPECT_EQ(next_seg(600), std::nullopt);
  // Rule (3): an unSACKed hole below the highest SACK, lost or not.
  EXPECT_EQ(next_seg_hole(0), seg(0, 100));
  EXPECT_EQ(next_seg_hole(500), seg(800, 100));
  EXPECT_EQ(next_seg_hole(950), seg(950, 50));
  // Above the highest SACKed octet neither rule applies: that is new data or rule (4).
  EXPECT_EQ(next_seg(1000), std::nullopt);
  EXPECT_EQ(next_seg_hole(1000), std::nullopt);
  EXPECT_EQ(next_seg_hole(1500), std::nullopt);
  EXPECT_EQ(rescue_seg(), seg(1900, 100));
}

TEST_F(SackScoreboardTest, NextSegStartsAtSndUnaWhenHighRxtIsBehindIt) {
  update({block(500, 800)});
  snd_una_ = at(200);
  update({});
  EXPECT_EQ(next_seg(0), seg(200, 100));
  EXPECT_EQ(sb_.next_seg(snd_una_, snd_max_, at(0) - 5000, 100), seg(200, 100));
}

TEST_F(SackScoreboardTest, NextSegBecomesLostAsMoreIsSacked) {
  update({block(500, 600)});
  EXPECT_EQ(next_seg(0), std::nullopt);
  EXPECT_EQ(next_seg_hole(0), seg(0, 100));
  update({block(700, 750)});
  EXPECT_EQ(next_seg(0), std::nullopt);  // 150 octets, two ranges
  update({block(900, 901)});
  EXPECT_EQ(next_seg(0), seg(0, 100));  // three ranges
  // The hole between the first two ranges has two above it: rule (3) only.
  EXPECT_EQ(next_seg(500), std::nullopt);
  EXPECT_EQ(next_seg_hole(500), seg(600, 100));
}

TEST_F(SackScoreboardTest, NextSegLengthIsCappedBySmssAndTheHole) {
  update({block(300, 600), block(700, 710), block(800, 810)});  // three ranges: lost at any SMSS
  EXPECT_EQ(next_seg(0, 1000), seg(0, 300));
  EXPECT_EQ(next_seg(299, 1000), seg(299, 1));
  EXPECT_EQ(next_seg(0, 0), std::nullopt);
  EXPECT_EQ(next_seg_hole(0, 0), std::nullopt);
  EXPECT_EQ(rescue_seg(0), std::nullopt);
}

TEST_F(SackScoreboardTest, RescueSegEndsAtTheHighestUnsackedOctet) {
  update({block(900, 1000)});
  EXPECT_EQ(rescue_seg(), seg(800, 100));
  update({block(100, 850)});
  EXPECT_EQ(rescue_seg(), seg(850, 50));  // not below the hole holding it
  update({block(0, 100)});
  EXPECT_EQ(rescue_seg(), seg(850, 50));
  update({block(850, 900)});
  EXPECT_EQ(rescue_seg(), std::nullopt);  // everything outstanding is SACKed
  EXPECT_EQ(pipe(0), 0U);
}

TEST_F(SackScoreboardTest, CheckReportsRangesOutsideTheWindow) {
  update({block(100, 200)});
  std::string why;
  EXPECT_TRUE(sb_.check(at(100), at(200), &why)) << why;
  EXPECT_FALSE(sb_.check(at(150), at(1000), &why));
  EXPECT_NE(why.find("before snd_una"), std::string::npos) << why;
  EXPECT_FALSE(sb_.check(at(0), at(150), &why));
  EXPECT_NE(why.find("after snd_max"), std::string::npos) << why;
  EXPECT_FALSE(sb_.check(at(0), at(150), nullptr));
}

// The message names the range at fault (check() builds it only once one fails).
TEST_F(SackScoreboardTest, CheckNamesTheRangeAtFault) {
  update({block(100, 200), block(300, 400)});
  std::string why;
  EXPECT_FALSE(sb_.check(at(0), at(350), &why));
  EXPECT_NE(why.find("scoreboard: range 1 ["), std::string::npos) << why;
}

TEST_F(SackScoreboardTest, ClearForgetsEverything) {
  update({block(100, 200), block(300, 400)});
  sb_.clear();
  EXPECT_TRUE(sb_.empty());
  EXPECT_EQ(sb_.sacked_bytes(), 0U);
  EXPECT_EQ(sb_.highest_sacked(), std::nullopt);
  EXPECT_EQ(pipe(0), 1000U);
}

// RFC 9293 3.4: all of it works modulo 2^32.
class SackScoreboardWrapTest : public SackScoreboardTest {
 protected:
  SackScoreboardWrapTest() : SackScoreboardTest(0xfffffe00U) {}
};

TEST_F(SackScoreboardWrapTest, WorksAcrossTheWrap) {
  // SND.UNA = 0xfffffe00 and SND.MAX = 0x1e8; the first range straddles zero.
  update({block(0x1f0, 0x210), block(0x300, 0x3e0)});
  EXPECT_EQ(ranges(), (std::vector{SackBlock{SeqNum(0xfffffff0U), SeqNum(0x10)},
                                   SackBlock{SeqNum(0x100), SeqNum(0x1e0)}}));
  EXPECT_EQ(sb_.sacked_bytes(), 0x20U + 0xe0U);
  EXPECT_TRUE(sb_.is_sacked(SeqNum(0xffffffffU)));
  EXPECT_TRUE(sb_.is_sacked(SeqNum(0)));
  EXPECT_FALSE(sb_.is_sacked(SeqNum(0x10)));
  EXPECT_EQ(sb_.highest_sacked(), SeqNum(0x1e0));
  // Both holes below the SACKed data have more than 200 octets SACKed above them: lost. Only
  // the 8 octets [0x1e0, 0x1e8) are in flight.
  EXPECT_TRUE(sb_.is_lost(SeqNum(0xfffffe00U), 100));
  EXPECT_TRUE(sb_.is_lost(SeqNum(0x10), 100));
  EXPECT_EQ(pipe(0), 8U);
  EXPECT_EQ(next_seg(0x1e0), seg(0x1e0, 0x10));
  EXPECT_EQ(next_seg(0x1f0), seg(0x210, 100));
  snd_una_ = SeqNum(0x8);
  update({});
  EXPECT_EQ(ranges(), (std::vector{SackBlock{SeqNum(0x8), SeqNum(0x10)},
                                   SackBlock{SeqNum(0x100), SeqNum(0x1e0)}}));
  EXPECT_EQ(rescue_seg(), seg(0x3e0, 8));
}

// The scoreboard against a model holding one SACKed bit per octet and RFC 6675's per-octet
// definitions, over thousands of random ACKs (with invalid blocks) across the 2^32 wrap.
class ScoreboardModel {
 public:
  std::uint64_t una = 0;
  std::uint64_t max = 0;

  bool sacked(std::uint64_t p) const { return p < bits_.size() && bits_[p] != 0; }

  void update(std::int64_t left, std::int64_t right) {
    if (left < static_cast<std::int64_t>(una) || right > static_cast<std::int64_t>(max) ||
        left >= right) {
      return;
    }
    grow();
    for (std::int64_t p = left; p < right; ++p) bits_[static_cast<std::size_t>(p)] = 1;
    auto runs = ranges();
    if (runs.size() > SackScoreboard::kMaxRanges) {
      std::size_t victim = 0;
      for (std::size_t i = 1; i < runs.size(); ++i) {
        if (runs[i].second - runs[i].first <= runs[victim].second - runs[victim].first) victim = i;
      }
      for (std::uint64_t p = runs[victim].first; p < runs[victim].second; ++p) bits_[p] = 0;
    }
  }

  // SACKed runs in [una, max).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges() const {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
    for (std::uint64_t p = una; p < max; ++p) {
      if (!sacked(p)) continue;
      if (!runs.empty() && runs.back().second == p) {
        ++runs.back().second;
      } else {
        runs.emplace_back(p, p + 1);
      }
    }
    return runs;
  }

  std::uint64_t highest() const {
    for (std::uint64_t p = max; p > una; --p) {
      if (sacked(p - 1)) return p;
    }
    return 0;
  }

  // IsLost straight from RFC 6675 section 4, octet by octet.
  bool is_lost(std::uint64_t s, std::uint32_t smss) const {
    std::uint64_t bytes = 0;
    std::uint32_t runs = 0;
    for (std::uint64_t p = s + 1; p < max; ++p) {
      if (!sacked(p)) continue;
      ++bytes;
      if (p == s + 1 || !sacked(p - 1)) ++runs;
    }
    return runs >= SackScoreboard::kDupThresh ||
           bytes > std::uint64_t{SackScoreboard::kDupThresh - 1} * smss;
  }

  // SetPipe, octet by octet, with IsLost kept incrementally going down.
  std::uint64_t pipe(std::int64_t high_rxt, std::uint32_t smss) const {
    std::uint64_t pipe = 0;
    std::uint64_t bytes = 0;
    std::uint32_t runs = 0;
    for (std::uint64_t p = max; p-- > una;) {
      // Octets above p are [p + 1, max): add p + 1 as it enters.
      if (p + 1 < max && sacked(p + 1)) {
        ++bytes;
        if (p + 2 >= max || !sacked(p + 2)) ++runs;
      }
      if (sacked(p)) continue;
      const bool lost = runs >= SackScoreboard::kDupThresh ||
                        bytes > std::uint64_t{SackScoreboard::kDupThresh - 1} * smss;
      if (!lost) ++pipe;
      if (static_cast<std::int64_t>(p) < high_rxt) ++pipe;
    }
    return pipe;
  }

  std::optional<std::pair<std::uint64_t, std::uint32_t>> next_seg(std::int64_t high_rxt,
                                                                  std::uint32_t smss,
                                                                  bool must_be_lost) const {
    if (smss == 0) return std::nullopt;
    auto s = static_cast<std::uint64_t>(std::max(high_rxt, static_cast<std::int64_t>(una)));
    while (s < max && sacked(s)) ++s;
    if (s >= max || s >= highest()) return std::nullopt;
    if (must_be_lost && !is_lost(s, smss)) return std::nullopt;
    std::uint32_t n = 0;
    while (n < smss && !sacked(s + n)) ++n;
    return std::pair{s, n};
  }

  std::optional<std::pair<std::uint64_t, std::uint32_t>> rescue(std::uint32_t smss) const {
    if (smss == 0) return std::nullopt;
    std::uint64_t top = max;
    while (top > una && sacked(top - 1)) --top;
    if (top == una) return std::nullopt;
    std::uint64_t start = top - 1;
    while (start > una && !sacked(start - 1) && top - start < smss) --start;
    return std::pair{start, static_cast<std::uint32_t>(top - start)};
  }

  void clear() { bits_.clear(); }

 private:
  void grow() {
    if (bits_.size() < max) bits_.resize(max, 0);
  }
  std::vector<std::uint8_t> bits_;  // one per octet: SACKed or not
};

TEST(SackScoreboardRandomTest, MatchesAnOctetModel) {
  constexpr std::uint32_t kBase = 0xffff8000U;  // wraps after 32 KiB
  std::mt19937 rng(6675);
  const auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const auto seq_of = [&](std::int64_t pos) {
    return SeqNum(kBase) + static_cast<std::uint32_t>(pos);
  };
  SackScoreboard sb;
  ScoreboardModel model;
  model.max = 1000;
  std::size_t most_ranges = 0;
  std::size_t lost_seen = 0;
  std::size_t rule1_seen = 0;
  constexpr std::array<std::uint32_t, 5> kSmss = {1, 10, 50, 100, 536};

  for (int step = 0; step < 5000; ++step) {
    const std::int64_t una = static_cast<std::int64_t>(model.una);
    const std::int64_t max = static_cast<std::int64_t>(model.max);
    // Every other 500 steps, tiny blocks and a slow cumulative ACK: many ranges, up to the cap.
    const bool sparse = (step / 500) % 2 == 1;
    std::int64_t roll = uniform(0, 99);
    if (sparse && roll >= 70 && roll < 85 && uniform(0, 4) != 0) roll = 0;
    if (roll < 70) {
      // An ACK with up to four blocks, some invalid.
      std::vector<SackBlock> blocks;
      const std::int64_t n = uniform(0, 4);
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t left = uniform(una - 50, max + 20);
        const std::int64_t right =
            left + (sparse || uniform(0, 1) == 0 ? uniform(-1, 4) : uniform(-20, 300));
        blocks.push_back(SackBlock{seq_of(left), seq_of(right)});
        model.update(left, right);
      }
      sb.update(seq_of(una), seq_of(max), blocks);
    } else if (roll < 85) {
      model.una = static_cast<std::uint64_t>(std::min(max, una + uniform(0, 300)));
      sb.update(seq_of(static_cast<std::int64_t>(model.una)), seq_of(max), {});
    } else if (roll < 99) {
      if (max - una > 2000) continue;  // keeps the octet-by-octet model quick
      model.max = static_cast<std::uint64_t>(max + uniform(0, 300));
      sb.update(seq_of(una), seq_of(static_cast<std::int64_t>(model.max)), {});
    } else {
      sb.clear();
      model.clear();
    }

    const SeqNum snd_una = seq_of(static_cast<std::int64_t>(model.una));
    const SeqNum snd_max = seq_of(static_cast<std::int64_t>(model.max));
    std::string why;
    ASSERT_TRUE(sb.check(snd_una, snd_max, &why)) << "step " << step << ": " << why;
    const auto runs = model.ranges();
    most_ranges = std::max(most_ranges, runs.size());
    ASSERT_EQ(sb.ranges().size(), runs.size()) << "step " << step;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      ASSERT_EQ(sb.ranges()[i], (SackBlock{seq_of(static_cast<std::int64_t>(runs[i].first)),
                                           seq_of(static_cast<std::int64_t>(runs[i].second))}))
          << "step " << step << " range " << i;
      total += runs[i].second - runs[i].first;
    }
    ASSERT_EQ(sb.sacked_bytes(), total) << "step " << step;
    if (runs.empty()) {
      ASSERT_EQ(sb.highest_sacked(), std::nullopt);
    } else {
      ASSERT_EQ(sb.highest_sacked(), seq_of(static_cast<std::int64_t>(model.highest())));
    }

    const std::uint32_t smss = kSmss[static_cast<std::size_t>(uniform(0, 4))];
    const std::int64_t high_rxt = uniform(static_cast<std::int64_t>(model.una) - 20,
                                          static_cast<std::int64_t>(model.max) + 20);
    const auto probe = static_cast<std::uint64_t>(
        uniform(static_cast<std::int64_t>(model.una), static_cast<std::int64_t>(model.max)));
    ASSERT_EQ(sb.is_sacked(seq_of(static_cast<std::int64_t>(probe))), model.sacked(probe))
        << "step " << step;
    const bool lost = model.is_lost(probe, smss);
    lost_seen += lost ? 1U : 0U;
    ASSERT_EQ(sb.is_lost(seq_of(static_cast<std::int64_t>(probe)), smss), lost) << "step " << step;
    ASSERT_EQ(sb.pipe(snd_una, snd_max, seq_of(high_rxt), smss), model.pipe(high_rxt, smss))
        << "step " << step << " high_rxt " << high_rxt << " smss " << smss;
    const auto as_seg = [&](std::optional<std::pair<std::uint64_t, std::uint32_t>> m) -> Seg {
      if (!m) return std::nullopt;
      return std::pair{seq_of(static_cast<std::int64_t>(m->first)), m->second};
    };
    const Seg rule1 = as_seg(model.next_seg(high_rxt, smss, true));
    rule1_seen += rule1 ? 1U : 0U;
    ASSERT_EQ(sb.next_seg(snd_una, snd_max, seq_of(high_rxt), smss), rule1) << "step " << step;
    ASSERT_EQ(sb.next_seg_hole(snd_una, snd_max, seq_of(high_rxt), smss),
              as_seg(model.next_seg(high_rxt, smss, false)))
        << "step " << step;
    ASSERT_EQ(sb.rescue_seg(snd_una, snd_max, smss), as_seg(model.rescue(smss))) << "step " << step;
  }
  EXPECT_GT(model.una, 0x8000U);  // wrapped
  EXPECT_GE(most_ranges, SackScoreboard::kMaxRanges) << "most ranges " << most_ranges;
  EXPECT_GT(lost_seen, 100U);
  EXPECT_GT(rule1_seen, 100U);
}

}  // namespace
}  // namespace synack::stack
