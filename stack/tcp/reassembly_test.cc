#include "stack/tcp/reassembly.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace synack::stack {
namespace {

// The byte a segment carries at sequence number s: `tag` tells copies of the same range apart,
// so a test can see which copy was kept.
std::uint8_t byte_at(SeqNum s, std::uint8_t tag) {
  return static_cast<std::uint8_t>((s.value() * 7U) + tag);
}

std::vector<std::uint8_t> payload(SeqNum seq, std::size_t n, std::uint8_t tag) {
  std::vector<std::uint8_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = byte_at(seq + static_cast<std::uint32_t>(i), tag);
  return v;
}

std::vector<std::uint8_t> drain(ByteQueue& q) {
  const auto view = q.view(0, q.size());
  std::vector<std::uint8_t> v(view.begin(), view.end());
  q.consume(q.size());
  return v;
}

// One connection's receive side: offsets are relative to the initial RCV.NXT, `base`.
class ReassemblyTest : public ::testing::Test {
 protected:
  explicit ReassemblyTest(std::uint32_t base = 1000, std::uint32_t window = 10000)
      : base_(base), rcv_nxt_(base), window_(window) {}

  SeqNum at(std::uint32_t offset) const { return base_ + offset; }
  SeqNum right_edge() const { return rcv_nxt_ + window_; }

  // Inserts the segment [offset, offset + n) carrying `tag` bytes, and a FIN after it if asked.
  void insert(std::uint32_t offset, std::size_t n, bool fin = false, std::uint8_t tag = 0) {
    insert_unchecked(offset, n, fin, tag);
    expect_consistent();
  }
  // For a segment that leaves data at RCV.NXT, which check() rejects until take_in_order().
  void insert_unchecked(std::uint32_t offset, std::size_t n, bool fin = false,
                        std::uint8_t tag = 0) {
    const SeqNum seq = at(offset);
    q_.insert(rcv_nxt_, right_edge(), seq, payload(seq, n, tag), fin);
  }
  // The caller's side of an in-order segment: n bytes taken directly, then the queue drained.
  std::size_t arrive_in_order(std::size_t n) {
    rcv_nxt_ += static_cast<std::uint32_t>(n);
    const std::size_t moved = q_.take_in_order(rcv_nxt_, out_, fin_);
    expect_consistent();
    return moved;
  }
  void expect_consistent() {
    std::string why;
    EXPECT_TRUE(q_.check(rcv_nxt_, right_edge(), &why)) << why;
  }
  std::vector<SackBlock> sack(std::size_t max = 4) const {
    std::vector<SackBlock> v(max);
    v.resize(q_.sack_blocks(v.data(), max));
    return v;
  }
  SackBlock block(std::uint32_t from, std::uint32_t to) const { return {at(from), at(to)}; }

  SeqNum base_;
  SeqNum rcv_nxt_;
  std::uint32_t window_;
  ReassemblyQueue q_;
  ByteQueue out_;
  bool fin_ = false;
};

TEST_F(ReassemblyTest, StartsEmpty) {
  EXPECT_TRUE(q_.empty());
  EXPECT_EQ(q_.bytes(), 0U);
  EXPECT_EQ(q_.blocks(), 0U);
  EXPECT_TRUE(sack().empty());
  EXPECT_EQ(arrive_in_order(0), 0U);
  EXPECT_FALSE(fin_);
  EXPECT_EQ(rcv_nxt_, at(0));
}

TEST_F(ReassemblyTest, HoldsOutOfOrderDataUntilTheHoleFills) {
  insert(100, 50);
  EXPECT_FALSE(q_.empty());
  EXPECT_EQ(q_.bytes(), 50U);
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(sack(), (std::vector{block(100, 150)}));

  // Half the hole: nothing becomes contiguous.
  EXPECT_EQ(arrive_in_order(60), 0U);
  EXPECT_EQ(rcv_nxt_, at(60));
  EXPECT_EQ(q_.bytes(), 50U);

  // The rest of it: the queued bytes follow, in order.
  EXPECT_EQ(arrive_in_order(40), 50U);
  EXPECT_EQ(rcv_nxt_, at(150));
  EXPECT_EQ(drain(out_), payload(at(100), 50, 0));
  EXPECT_TRUE(q_.empty());
  EXPECT_FALSE(fin_);
}

TEST_F(ReassemblyTest, DeliversEveryRangeMadeContiguousAndStopsAtTheNextHole) {
  insert(10, 10);
  insert(20, 10);  // touches the first: merged
  insert(40, 10);
  EXPECT_EQ(q_.blocks(), 2U);
  EXPECT_EQ(arrive_in_order(10), 20U);
  EXPECT_EQ(rcv_nxt_, at(30));
  EXPECT_EQ(drain(out_), payload(at(10), 20, 0));
  EXPECT_EQ(q_.bytes(), 10U);
  EXPECT_EQ(sack(), (std::vector{block(40, 50)}));
}

TEST_F(ReassemblyTest, OverlapOnTheLeftKeepsTheHeldBytes) {
  insert(100, 50, false, 1);
  insert(80, 40, false, 2);  // [80, 120): only [80, 100) is new
  EXPECT_EQ(q_.bytes(), 70U);
  EXPECT_EQ(q_.blocks(), 1U);
  arrive_in_order(80);
  std::vector<std::uint8_t> want = payload(at(80), 20, 2);
  const std::vector<std::uint8_t> held = payload(at(100), 50, 1);
  want.insert(want.end(), held.begin(), held.end());
  EXPECT_EQ(drain(out_), want);
}

TEST_F(ReassemblyTest, OverlapOnTheRightKeepsTheHeldBytes) {
  insert(100, 50, false, 1);
  insert(130, 40, false, 2);  // [130, 170): only [150, 170) is new
  EXPECT_EQ(q_.bytes(), 70U);
  arrive_in_order(100);
  std::vector<std::uint8_t> want = payload(at(100), 50, 1);
  const std::vector<std::uint8_t> added = payload(at(150), 20, 2);
  want.insert(want.end(), added.begin(), added.end());
  EXPECT_EQ(drain(out_), want);
}

TEST_F(ReassemblyTest, SupersetSpanningSeveralRangesFillsOnlyTheGaps) {
  insert(100, 10, false, 1);
  insert(120, 10, false, 2);
  insert(140, 10, false, 3);
  EXPECT_EQ(q_.blocks(), 3U);
  insert(90, 70, false, 4);  // [90, 160) covers all three and the gaps between
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(q_.bytes(), 70U);
  arrive_in_order(90);
  std::vector<std::uint8_t> want;
  const auto add = [&](std::uint32_t from, std::size_t n, std::uint8_t tag) {
    const auto p = payload(at(from), n, tag);
    want.insert(want.end(), p.begin(), p.end());
  };
  add(90, 10, 4);
  add(100, 10, 1);
  add(110, 10, 4);
  add(120, 10, 2);
  add(130, 10, 4);
  add(140, 10, 3);
  add(150, 10, 4);
  EXPECT_EQ(drain(out_), want);
}

TEST_F(ReassemblyTest, SubsetAndExactDuplicateChangeNothing) {
  insert(100, 50, false, 1);
  insert(110, 20, false, 2);  // inside
  insert(100, 50, false, 3);  // the same range again
  insert(100, 1, false, 4);   // first byte
  insert(149, 1, false, 5);   // last byte
  EXPECT_EQ(q_.bytes(), 50U);
  EXPECT_EQ(q_.blocks(), 1U);
  arrive_in_order(100);
  EXPECT_EQ(drain(out_), payload(at(100), 50, 1));
}

TEST_F(ReassemblyTest, ExactFitHoleMergesItsNeighbours) {
  insert(10, 10);
  insert(30, 10);
  insert(20, 10);
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(q_.bytes(), 30U);
  EXPECT_EQ(sack(), (std::vector{block(10, 40)}));
}

TEST_F(ReassemblyTest, AdjacentRangesMergeOnEitherSide) {
  insert(50, 10);
  insert(40, 10);  // touches on the left
  insert(60, 10);  // touches on the right
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(sack(), (std::vector{block(40, 70)}));
  insert(71, 1);  // one byte of gap: a new range
  EXPECT_EQ(q_.blocks(), 2U);
}

TEST_F(ReassemblyTest, TrimsAtTheRightEdgeOfTheWindow) {
  window_ = 200;
  insert(150, 100);  // [150, 250): only [150, 200) fits
  EXPECT_EQ(q_.bytes(), 50U);
  EXPECT_EQ(sack(), (std::vector{block(150, 200)}));
  insert(200, 10);  // wholly beyond
  insert(5000, 10);
  EXPECT_EQ(q_.bytes(), 50U);
  EXPECT_EQ(q_.blocks(), 1U);
}

TEST_F(ReassemblyTest, TrimsWhatIsAlreadyReceivedAndIgnoresOldSegments) {
  rcv_nxt_ = at(100);
  insert_unchecked(50, 70, false, 1);  // [50, 120): [50, 100) is old, [100, 120) at RCV.NXT
  EXPECT_EQ(q_.bytes(), 20U);
  insert_unchecked(0, 50);   // wholly old
  insert_unchecked(0, 100);  // ends exactly at RCV.NXT
  EXPECT_EQ(q_.bytes(), 20U);
  // A range at RCV.NXT is deliverable at once.
  EXPECT_EQ(arrive_in_order(0), 20U);
  EXPECT_EQ(drain(out_), payload(at(100), 20, 1));
  EXPECT_EQ(rcv_nxt_, at(120));
}

TEST_F(ReassemblyTest, ZeroWindowStoresNothing) {
  window_ = 0;
  insert(0, 10);
  insert(1, 10, true);
  EXPECT_TRUE(q_.empty());
}

TEST_F(ReassemblyTest, AnEmptySegmentStoresNothing) {
  insert(10, 0);
  EXPECT_TRUE(q_.empty());
  EXPECT_TRUE(sack().empty());
}

TEST_F(ReassemblyTest, QueuedFinIsTakenAfterTheDataBeforeIt) {
  insert(100, 50, true);
  EXPECT_EQ(q_.bytes(), 50U);
  EXPECT_EQ(arrive_in_order(50), 0U);
  EXPECT_FALSE(fin_);
  EXPECT_EQ(arrive_in_order(50), 50U);
  EXPECT_TRUE(fin_);
  EXPECT_EQ(rcv_nxt_, at(151));  // the FIN's sequence number is consumed too
  EXPECT_TRUE(q_.empty());
}

TEST_F(ReassemblyTest, FinOnlySegmentIsQueued) {
  insert(100, 0, true);
  EXPECT_FALSE(q_.empty());
  EXPECT_EQ(q_.bytes(), 0U);
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(sack(), (std::vector{block(100, 101)}));
  EXPECT_EQ(arrive_in_order(100), 0U);
  EXPECT_TRUE(fin_);
  EXPECT_EQ(rcv_nxt_, at(101));
}

TEST_F(ReassemblyTest, FinAtTheRightEdgeIsDroppedButItsDataKept) {
  window_ = 200;
  insert(150, 50, true);  // the FIN would be at 200, the right edge: outside the window
  EXPECT_EQ(q_.bytes(), 50U);
  EXPECT_EQ(sack(), (std::vector{block(150, 200)}));
  arrive_in_order(150);
  EXPECT_FALSE(fin_);
  EXPECT_EQ(rcv_nxt_, at(200));
  // Retransmitted once the window has room, it is taken.
  insert(200, 0, true);
  EXPECT_EQ(arrive_in_order(0), 0U);
  EXPECT_TRUE(fin_);
}

TEST_F(ReassemblyTest, FinOfATrimmedSegmentIsDropped) {
  window_ = 200;
  insert(150, 100, true);  // data trimmed at 200, so the FIN at 250 did not fit
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(sack(), (std::vector{block(150, 200)}));
}

TEST_F(ReassemblyTest, DataAtOrAfterAQueuedFinIsIgnored) {
  insert(100, 10, true);  // FIN at 110
  insert(105, 20);        // [105, 125): only [105, 110) could be new, and it is held
  insert(110, 5);
  insert(200, 5);
  EXPECT_EQ(q_.bytes(), 10U);
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(sack(), (std::vector{block(100, 111)}));
}

TEST_F(ReassemblyTest, ASecondFinElsewhereIsIgnored) {
  insert(100, 10, true);  // FIN at 110
  insert(50, 10, true);   // FIN at 60: contradicts the first
  EXPECT_EQ(sack(), (std::vector{block(50, 60), block(100, 111)}));
  EXPECT_EQ(arrive_in_order(50), 10U);
  EXPECT_FALSE(fin_);
  EXPECT_EQ(rcv_nxt_, at(60));
  // The same FIN again is fine.
  insert(105, 5, true);
  EXPECT_EQ(sack(), (std::vector{block(100, 111)}));
}

TEST_F(ReassemblyTest, FinBeforeQueuedDataIsIgnored) {
  insert(100, 10);
  insert(50, 10, true);  // FIN at 60, but data is held at 100
  EXPECT_EQ(sack(), (std::vector{block(50, 60), block(100, 110)}));
  EXPECT_EQ(arrive_in_order(50), 10U);
  EXPECT_FALSE(fin_);
  EXPECT_EQ(rcv_nxt_, at(60));
}

TEST_F(ReassemblyTest, FinOverlappingHeldDataIsKept) {
  insert(100, 50);
  insert(120, 30, true);  // all duplicate data, FIN at 150 right after the range
  EXPECT_EQ(q_.blocks(), 1U);
  EXPECT_EQ(sack(), (std::vector{block(100, 151)}));
  arrive_in_order(100);
  EXPECT_TRUE(fin_);
  EXPECT_EQ(rcv_nxt_, at(151));
}

TEST_F(ReassemblyTest, FinPassedByInOrderDataIsForgotten) {
  insert(100, 0, true);
  arrive_in_order(120);  // the peer's in-order data ran past the FIN: it was bogus
  EXPECT_FALSE(fin_);
  EXPECT_TRUE(q_.empty());
}

TEST_F(ReassemblyTest, TakeLeavesFinFlagAloneWhenNoFinIsTaken) {
  fin_ = true;  // as the caller may already have set it
  insert(100, 10);
  arrive_in_order(100);
  EXPECT_TRUE(fin_);
}

TEST_F(ReassemblyTest, DropsRangesTheCallerAdvancedPastAndDeliversTheRest) {
  insert(100, 10, false, 1);
  insert(120, 30, false, 2);
  // In-order data up to 130 (the caller delivered [0, 130) itself).
  EXPECT_EQ(arrive_in_order(130), 20U);
  EXPECT_EQ(drain(out_), payload(at(130), 20, 2));
  EXPECT_EQ(rcv_nxt_, at(150));
  EXPECT_TRUE(q_.empty());
  EXPECT_EQ(q_.bytes(), 0U);
}

TEST_F(ReassemblyTest, InsertForgetsWhatTheCallerAdvancedPast) {
  insert(100, 10);
  insert(120, 30);
  rcv_nxt_ = at(125);  // advanced without take_in_order
  insert_unchecked(300, 10);
  EXPECT_EQ(q_.bytes(), 35U);  // [125, 150) and [300, 310)
  EXPECT_EQ(arrive_in_order(0), 25U);
  EXPECT_EQ(rcv_nxt_, at(150));
}

TEST_F(ReassemblyTest, ClearForgetsEverything) {
  insert(100, 10, true);
  insert(10, 10);
  q_.clear();
  EXPECT_TRUE(q_.empty());
  EXPECT_EQ(q_.bytes(), 0U);
  EXPECT_EQ(q_.blocks(), 0U);
  EXPECT_TRUE(sack().empty());
  arrive_in_order(200);
  EXPECT_FALSE(fin_);
}

// RFC 2018 section 4: the first block holds the segment that triggered the ACK; the rest follow
// most recent first.
TEST_F(ReassemblyTest, SackBlocksMostRecentFirst) {
  insert(100, 10);  // A
  insert(200, 10);  // B
  insert(300, 10);  // C
  insert(400, 10);  // D
  insert(500, 10);  // E
  EXPECT_EQ(sack(),
            (std::vector{block(500, 510), block(400, 410), block(300, 310), block(200, 210)}));
  EXPECT_EQ(sack(3), (std::vector{block(500, 510), block(400, 410), block(300, 310)}));
  EXPECT_EQ(sack(1), (std::vector{block(500, 510)}));
  EXPECT_TRUE(sack(0).empty());
  EXPECT_EQ(sack(10).size(), 5U);
  EXPECT_EQ(sack(10).back(), block(100, 110));
}

TEST_F(ReassemblyTest, DuplicateSegmentMakesItsBlockFirst) {
  insert(100, 10);
  insert(200, 10);
  insert(300, 10);
  insert(102, 3);  // all held already, yet it triggered this ACK
  EXPECT_EQ(sack(), (std::vector{block(100, 110), block(300, 310), block(200, 210)}));
}

TEST_F(ReassemblyTest, MergedBlockIsFirstAfterItsHoleFills) {
  insert(100, 10);
  insert(200, 10);
  insert(300, 10);
  insert(400, 10);
  insert(110, 90);  // fills the hole between the first two
  EXPECT_EQ(sack(), (std::vector{block(100, 210), block(400, 410), block(300, 310)}));
}

TEST_F(ReassemblyTest, OtherBlocksKeepTheirOrderAfterAMerge) {
  insert(100, 10);
  insert(300, 10);
  insert(200, 10);
  insert(400, 10);
  insert(110, 90);  // joins [100, 110) and [200, 210)
  EXPECT_EQ(sack(), (std::vector{block(100, 210), block(400, 410), block(300, 310)}));
  insert(300, 5);  // then a duplicate brings up [300, 310)
  EXPECT_EQ(sack(), (std::vector{block(300, 310), block(100, 210), block(400, 410)}));
}

TEST_F(ReassemblyTest, DeliveredBlocksLeaveTheList) {
  insert(100, 10);
  insert(200, 10);
  insert(50, 10);       // most recent
  arrive_in_order(50);  // delivers [50, 60)
  EXPECT_EQ(sack(), (std::vector{block(200, 210), block(100, 110)}));
}

TEST_F(ReassemblyTest, FinAfterTheLastRangeExtendsItsBlock) {
  insert(100, 10);
  insert(200, 10);
  insert(210, 0, true);  // FIN right after the last range
  EXPECT_EQ(q_.blocks(), 2U);
  EXPECT_EQ(sack(), (std::vector{block(200, 211), block(100, 110)}));
  insert(100, 5);
  EXPECT_EQ(sack(), (std::vector{block(100, 110), block(200, 211)}));
}

TEST_F(ReassemblyTest, FinAloneIsItsOwnBlockInRecencyOrder) {
  insert(100, 10);
  insert(300, 0, true);
  insert(200, 10);
  EXPECT_EQ(q_.blocks(), 3U);
  EXPECT_EQ(sack(), (std::vector{block(200, 210), block(300, 301), block(100, 110)}));
  // Data up to the FIN joins them.
  insert(210, 90);
  EXPECT_EQ(q_.blocks(), 2U);
  EXPECT_EQ(sack(), (std::vector{block(200, 301), block(100, 110)}));
}

TEST_F(ReassemblyTest, RangeCapDropsTheRangeFurthestFromRcvNxt) {
  // 64 one-byte ranges two apart, then one more above them all: it is the one dropped.
  for (std::uint32_t i = 0; i < ReassemblyQueue::kMaxRanges; ++i) insert(10 + (2 * i), 1);
  EXPECT_EQ(q_.blocks(), ReassemblyQueue::kMaxRanges);
  insert(1000, 5);
  EXPECT_EQ(q_.blocks(), ReassemblyQueue::kMaxRanges);
  EXPECT_EQ(q_.bytes(), ReassemblyQueue::kMaxRanges);
  // One below them all: the highest (at 10 + 2 * 63 = 136) is dropped instead.
  insert(5, 2);
  EXPECT_EQ(q_.blocks(), ReassemblyQueue::kMaxRanges);
  EXPECT_EQ(q_.bytes(), ReassemblyQueue::kMaxRanges - 1 + 2);
  const std::vector<SackBlock> all = sack(100);
  EXPECT_EQ(all.front(), block(5, 7));
  for (const SackBlock& b : all) EXPECT_NE(b, block(136, 137));
  // Merging two ranges frees a slot.
  insert(11, 1);
  EXPECT_EQ(q_.blocks(), ReassemblyQueue::kMaxRanges - 1);
  insert(136, 1);
  EXPECT_EQ(q_.blocks(), ReassemblyQueue::kMaxRanges);
}

TEST_F(ReassemblyTest, RangeCapKeepsAFinBeyondTheDroppedRange) {
  for (std::uint32_t i = 0; i < ReassemblyQueue::kMaxRanges; ++i) insert(10 + (2 * i), 1);
  insert(500, 0, true);
  insert(5, 2);  // drops [136, 137); the FIN stays
  EXPECT_EQ(q_.blocks(), ReassemblyQueue::kMaxRanges + 1);
  EXPECT_EQ(sack(100).size(), ReassemblyQueue::kMaxRanges + 1);
}

TEST_F(ReassemblyTest, CheckReportsAWindowThatDoesNotHoldTheRanges) {
  insert(100, 10);
  insert(200, 0, true);
  std::string why;
  EXPECT_TRUE(q_.check(at(0), at(300), &why)) << why;
  EXPECT_FALSE(q_.check(at(100), at(300), &why));  // a range at RCV.NXT: should be delivered
  EXPECT_NE(why.find("does not start after"), std::string::npos) << why;
  EXPECT_FALSE(q_.check(at(0), at(105), &why));
  EXPECT_NE(why.find("right edge"), std::string::npos) << why;
  EXPECT_FALSE(q_.check(at(0), at(200), &why));  // the FIN must be inside the window
  EXPECT_NE(why.find("FIN"), std::string::npos) << why;
  EXPECT_FALSE(q_.check(at(100), at(300), nullptr));  // no reason asked for
  arrive_in_order(110);                               // now only the FIN at 200 is held
  EXPECT_FALSE(q_.check(at(201), at(300), &why));
  EXPECT_NE(why.find("before rcv_nxt"), std::string::npos) << why;
}

// RFC 9293 3.4: sequence numbers are modulo 2^32; ranges that straddle zero behave alike.
class ReassemblyWrapTest : public ReassemblyTest {
 protected:
  ReassemblyWrapTest() : ReassemblyTest(0xffffff00U, 0x1000) {}
};

TEST_F(ReassemblyWrapTest, WorksAcrossTheWrap) {
  insert(0xf0, 0x20, false, 1);  // [0xfffffff0, 0x10)
  insert(0x200, 0x10, false, 2);
  insert(0xe0, 0x40, false, 3);  // overlaps the first on both sides
  EXPECT_EQ(q_.bytes(), 0x50U);
  EXPECT_EQ(q_.blocks(), 2U);
  EXPECT_EQ(sack(), (std::vector{SackBlock{SeqNum(0xffffffe0U), SeqNum(0x20)},
                                 SackBlock{SeqNum(0x100), SeqNum(0x110)}}));
  insert(0x1000 - 1, 0, true);  // a FIN on the window's last sequence number
  EXPECT_EQ(q_.blocks(), 3U);
  EXPECT_EQ(arrive_in_order(0xe0), 0x40U);
  EXPECT_EQ(rcv_nxt_, SeqNum(0x20));
  std::vector<std::uint8_t> want = payload(SeqNum(0xffffffe0U), 0x10, 3);
  const auto mid = payload(SeqNum(0xfffffff0U), 0x20, 1);
  const auto tail = payload(SeqNum(0x10), 0x10, 3);
  want.insert(want.end(), mid.begin(), mid.end());
  want.insert(want.end(), tail.begin(), tail.end());
  EXPECT_EQ(drain(out_), want);
  EXPECT_FALSE(fin_);
  // Everything up to the FIN, in order.
  EXPECT_EQ(arrive_in_order(0x100 - 0x20), 0x10U);
  EXPECT_EQ(rcv_nxt_, SeqNum(0x110));
  arrive_in_order(0x1000 - 1 - 0x210);
  EXPECT_TRUE(fin_);
  EXPECT_EQ(rcv_nxt_, at(0x1000));
  EXPECT_TRUE(q_.empty());
}

TEST_F(ReassemblyWrapTest, TrimsAtAWindowEdgePastTheWrap) {
  window_ = 0x180;  // right edge 0x80
  insert(0x170, 0x20);
  EXPECT_EQ(sack(), (std::vector{SackBlock{SeqNum(0x70), SeqNum(0x80)}}));
}

// The queue against a model that keeps one optional byte and one stamp per sequence number:
// thousands of random segments (overlapping, duplicate, old, beyond the window, with and without
// FIN) with in-order arrivals between them, across the 2^32 wrap.
class ReassemblyModel {
 public:
  explicit ReassemblyModel(std::uint64_t window) : window_(window) {}

  std::uint64_t nxt = 0;  // absolute position of RCV.NXT (no wrap in the model)

  // Mirrors ReassemblyQueue::insert: data first (held bytes win, none past a FIN), then the
  // range cap, then the FIN.
  void insert(std::int64_t start, const std::vector<std::uint8_t>& data, bool fin,
              std::uint64_t stamp) {
    const std::int64_t end = start + static_cast<std::int64_t>(data.size());
    std::int64_t limit = static_cast<std::int64_t>(nxt + window_);
    if (fin_) limit = std::min(limit, static_cast<std::int64_t>(*fin_));
    const std::int64_t lo = std::max(start, static_cast<std::int64_t>(nxt));
    const std::int64_t hi = std::min(end, limit);
    for (std::int64_t p = lo; p < hi; ++p) {
      Cell& c = cell(static_cast<std::uint64_t>(p));
      if (!c.held) c = Cell{true, data[static_cast<std::size_t>(p - start)], stamp};
      c.stamp = stamp;
    }
    if (lo < hi) {
      std::vector<std::pair<std::uint64_t, std::uint64_t>> runs = data_runs();
      while (runs.size() > ReassemblyQueue::kMaxRanges) {
        for (std::uint64_t p = runs.back().first; p < runs.back().second; ++p) cell(p).held = false;
        runs.pop_back();
        ++cap_drops;
      }
    }
    if (!fin || end < static_cast<std::int64_t>(nxt) ||
        end >= static_cast<std::int64_t>(nxt + window_)) {
      return;
    }
    const auto f = static_cast<std::uint64_t>(end);
    if (fin_ && *fin_ != f) return;
    for (std::uint64_t p = f; p < nxt + window_; ++p) {
      if (held(p)) return;  // data queued past the FIN
    }
    fin_ = f;
    fin_stamp_ = stamp;
  }

  // The caller took n in-order bytes; then what the queue should deliver.
  std::vector<std::uint8_t> advance(std::uint64_t n, bool& fin) {
    nxt += n;
    std::vector<std::uint8_t> out;
    while (held(nxt)) {
      out.push_back(cells_[nxt].byte);
      cells_[nxt].held = false;
      ++nxt;
    }
    if (fin_ && *fin_ == nxt) {
      fin = true;
      ++nxt;
      fin_.reset();
    } else if (fin_ && *fin_ < nxt) {
      fin_.reset();
    }
    return out;
  }

  void clear() {
    for (std::uint64_t p = nxt; p < nxt + window_; ++p) {
      if (p < cells_.size()) cells_[p].held = false;
    }
    fin_.reset();
  }

  std::size_t bytes() const {
    std::size_t n = 0;
    for (std::uint64_t p = nxt; p < nxt + window_; ++p) n += held(p) ? 1U : 0U;
    return n;
  }

  // Maximal runs of queued sequence numbers (data, and the FIN's), most recent first.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> sack_blocks() const {
    struct Run {
      std::uint64_t left, right, stamp;
    };
    std::vector<Run> runs;
    const auto add = [&](std::uint64_t pos, std::uint64_t stamp) {
      if (!runs.empty() && runs.back().right == pos) {
        runs.back().right = pos + 1;
        runs.back().stamp = std::max(runs.back().stamp, stamp);
      } else {
        runs.push_back(Run{pos, pos + 1, stamp});
      }
    };
    for (std::uint64_t p = nxt; p < nxt + window_; ++p) {
      if (held(p)) add(p, cells_[p].stamp);
    }
    if (fin_) add(*fin_, fin_stamp_);
    std::stable_sort(runs.begin(), runs.end(),
                     [](const Run& a, const Run& b) { return a.stamp > b.stamp; });
    std::vector<std::pair<std::uint64_t, std::uint64_t>> v;
    for (const Run& r : runs) v.emplace_back(r.left, r.right);
    return v;
  }

  std::size_t cap_drops = 0;

 private:
  struct Cell {
    bool held = false;
    std::uint8_t byte = 0;
    std::uint64_t stamp = 0;
  };
  bool held(std::uint64_t p) const { return p < cells_.size() && cells_[p].held; }
  Cell& cell(std::uint64_t p) {
    if (p >= cells_.size()) cells_.resize(p + 1);
    return cells_[p];
  }
  std::vector<std::pair<std::uint64_t, std::uint64_t>> data_runs() const {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
    for (std::uint64_t p = nxt; p < nxt + window_; ++p) {
      if (!held(p)) continue;
      if (!runs.empty() && runs.back().second == p) {
        ++runs.back().second;
      } else {
        runs.emplace_back(p, p + 1);
      }
    }
    return runs;
  }

  std::uint64_t window_;
  std::vector<Cell> cells_;  // by absolute position; only [nxt, nxt + window) matters
  std::optional<std::uint64_t> fin_;
  std::uint64_t fin_stamp_ = 0;
};

TEST(ReassemblyRandomTest, MatchesAByteModel) {
  constexpr std::uint32_t kBase = 0xffff0000U;  // wraps after 64 KiB
  constexpr std::int64_t kWindow = 2000;
  std::mt19937 rng(20240611);
  const auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  ReassemblyQueue q;
  ReassemblyModel model(kWindow);
  ByteQueue out;
  SeqNum rcv_nxt(kBase);
  const auto seq_of = [&](std::uint64_t pos) {
    return SeqNum(kBase) + static_cast<std::uint32_t>(pos);
  };
  std::uint64_t stamp = 0;
  std::size_t delivered = 0;
  std::size_t fins = 0;
  std::size_t most_blocks = 0;
  // Each stream ends at `stream_end`, where its FIN is; some streams come in tiny segments only,
  // which pile up into more than kMaxRanges ranges.
  std::int64_t stream_end = 0;
  bool tiny = false;
  const auto new_stream = [&] {
    tiny = uniform(0, 3) == 0;
    stream_end =
        static_cast<std::int64_t>(model.nxt) + (tiny ? uniform(3000, 6000) : uniform(100, 4000));
  };
  new_stream();

  for (int step = 0; step < 12000; ++step) {
    const std::int64_t roll = uniform(0, 99);
    std::uint64_t in_order = 0;  // bytes the caller takes itself before draining the queue
    if (roll < 80) {
      // A segment somewhere around the window, ending at or before the stream's end (then
      // with its FIN), or now and then anywhere, with a FIN anywhere (a broken peer).
      const bool wild = uniform(0, 99) < 2;
      const std::int64_t nxt = static_cast<std::int64_t>(model.nxt);
      std::int64_t len = tiny ? uniform(0, 3) : uniform(0, 150);
      // One in ten is the stream's last segment, carrying the FIN.
      const std::int64_t start =
          uniform(0, 9) == 0 ? stream_end - len : nxt + uniform(-200, kWindow + 100);
      bool fin = wild && uniform(0, 1) == 0;
      if (!wild && start + len >= stream_end) {
        len = std::max<std::int64_t>(0, stream_end - start);
        fin = start <= stream_end;
      }
      std::vector<std::uint8_t> data(static_cast<std::size_t>(len));
      for (auto& b : data) b = static_cast<std::uint8_t>(uniform(0, 255));
      q.insert(rcv_nxt, rcv_nxt + static_cast<std::uint32_t>(kWindow),
               rcv_nxt + static_cast<std::uint32_t>(start - nxt), data, fin);
      model.insert(start, data, fin, ++stamp);
    } else if (roll < 98) {
      // Not past the stream's end (but maybe past a wild FIN).
      in_order = static_cast<std::uint64_t>(std::min<std::int64_t>(
          uniform(0, 40),
          std::max<std::int64_t>(0, stream_end - static_cast<std::int64_t>(model.nxt))));
    } else {
      q.clear();
      model.clear();
    }
    // The engine drains the queue after every segment: one that overlapped RCV.NXT left data
    // there (the caller would have trimmed and taken it itself; the queue must cope either way).
    bool fin = false;
    const std::vector<std::uint8_t> want = model.advance(in_order, fin);
    bool got_fin = false;
    rcv_nxt += static_cast<std::uint32_t>(in_order);
    ASSERT_EQ(q.take_in_order(rcv_nxt, out, got_fin), want.size()) << "step " << step;
    const auto view = out.view(0, out.size());
    ASSERT_EQ(std::vector<std::uint8_t>(view.begin(), view.end()), want) << "step " << step;
    out.consume(out.size());
    ASSERT_EQ(got_fin, fin) << "step " << step;
    ASSERT_EQ(rcv_nxt, seq_of(model.nxt)) << "step " << step;
    delivered += want.size();
    if (fin) {
      ++fins;
      ASSERT_TRUE(q.empty()) << "step " << step;
      new_stream();
    } else if (static_cast<std::int64_t>(model.nxt) > stream_end) {
      new_stream();  // a wild FIN ended it early
    }

    std::string why;
    ASSERT_TRUE(q.check(rcv_nxt, rcv_nxt + static_cast<std::uint32_t>(kWindow), &why))
        << "step " << step << ": " << why;
    ASSERT_EQ(q.bytes(), model.bytes()) << "step " << step;
    const auto want_blocks = model.sack_blocks();
    ASSERT_EQ(q.blocks(), want_blocks.size()) << "step " << step;
    most_blocks = std::max(most_blocks, want_blocks.size());
    std::vector<SackBlock> got(ReassemblyQueue::kMaxRanges + 1);
    got.resize(q.sack_blocks(got.data(), got.size()));
    ASSERT_EQ(got.size(), want_blocks.size()) << "step " << step;
    for (std::size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], (SackBlock{seq_of(want_blocks[i].first), seq_of(want_blocks[i].second)}))
          << "step " << step << " block " << i;
    }
    ASSERT_EQ(q.empty(), want_blocks.empty()) << "step " << step;
  }
  // The run did what it was meant to: wrapped, delivered, saw FINs and hit the range cap.
  EXPECT_LT(rcv_nxt.value(), kBase);
  EXPECT_GT(delivered, 10000U);
  EXPECT_GT(fins, 20U) << fins;
  EXPECT_GE(most_blocks, ReassemblyQueue::kMaxRanges);
  EXPECT_GT(model.cap_drops, 10U) << model.cap_drops;
}

}  // namespace
}  // namespace synack::stack
