#include "harness/oracle/byte_record.h"

#include <limits>
#include <ostream>
#include <string>
#include <string_view>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace synack::oracle {

// gtest prints a stretch through this (found by ADL) instead of dumping its bytes; the name is
// gtest's.
void PrintTo(const Stretch& s, std::ostream* os);   // NOLINT(readability-identifier-naming)
void PrintTo(const Stretch& s, std::ostream* os) {  // NOLINT(readability-identifier-naming)
  *os << "[" << s.begin << ", " << s.end << ")";
}

namespace {

using ::testing::ElementsAre;

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};  // NOLINT: test data
}

std::string text_of(const ByteFifo& f) { return {f.begin(), f.end()}; }

TEST(ByteFifo, AppendsAtTheBackAndDropsFromTheFront) {
  ByteFifo f;
  EXPECT_TRUE(f.empty());
  f.append(bytes("abcdef"));
  f.drop_front(2);  // less than half: stays in place
  EXPECT_EQ(text_of(f), "cdef");
  f.append(bytes("gh"));
  f.drop_front(3);  // now the larger part: moved down
  EXPECT_EQ(text_of(f), "fgh");
  EXPECT_EQ(f[0], 'f');
  EXPECT_EQ(f.size(), 3U);
  f.drop_front(10);  // more than it holds: empties it
  EXPECT_TRUE(f.empty());
  f.append(bytes("xy"));
  EXPECT_EQ(text_of(f), "xy");
}

TEST(IntervalSet, NextChangeIsWhereContainsFlips) {
  IntervalSet s;
  s.add(10, 20);
  s.add(30, 40);
  EXPECT_EQ(s.next_change(5), 10);   // outside: the next stretch's start
  EXPECT_EQ(s.next_change(10), 20);  // inside: its end
  EXPECT_EQ(s.next_change(19), 20);
  EXPECT_EQ(s.next_change(20), 30);  // just past one: the next start
  EXPECT_EQ(s.next_change(45), std::numeric_limits<std::int64_t>::max());
}

TEST(IntervalSet, MergesOverlappingAndTouchingRuns) {
  IntervalSet s;
  s.add(10, 20);
  s.add(30, 40);
  EXPECT_EQ(s.run_count(), 2U);
  s.add(20, 30);  // touches both
  EXPECT_EQ(s.run_count(), 1U);
  EXPECT_TRUE(s.contains(10));
  EXPECT_TRUE(s.contains(39));
  EXPECT_FALSE(s.contains(40));
  EXPECT_FALSE(s.contains(9));
  s.add(5, 5);  // empty: ignored
  EXPECT_FALSE(s.contains(5));
}

TEST(IntervalSet, ForgetBelowTrimsTheFirstRun) {
  IntervalSet s;
  s.add(0, 10);
  s.add(20, 30);
  s.forget_below(25);
  EXPECT_FALSE(s.contains(24));
  EXPECT_TRUE(s.contains(25));
  ASSERT_TRUE(s.first());
  EXPECT_EQ(*s.first(), (Stretch{25, 30}));
}

TEST(ContiguousSpace, GrowsOnlyWithoutAHole) {
  ContiguousSpace c(0);
  c.add(0, 1);
  EXPECT_EQ(c.end(), 1);
  c.add(101, 201);  // beyond a hole
  EXPECT_EQ(c.end(), 1);
  c.add(1, 50);
  EXPECT_EQ(c.end(), 50);
  c.add(40, 101);  // fills the hole: the stretch waiting beyond it joins
  EXPECT_EQ(c.end(), 201);
  c.add(-10, 5);  // before the start: nothing changes
  EXPECT_EQ(c.end(), 201);
}

TEST(ByteRecord, KeepsTheFirstCopyAndReportsDifferences) {
  ByteRecord r;
  auto first = r.put(100, bytes("abcdef"));
  EXPECT_THAT(first.fresh, ElementsAre(Stretch{100, 106}));
  EXPECT_FALSE(first.first_mismatch);

  auto again = r.put(102, bytes("cXeYgh"));  // overlaps 102..105, extends to 107
  EXPECT_THAT(again.fresh, ElementsAre(Stretch{106, 108}));
  EXPECT_THAT(again.differing, ElementsAre(Stretch{103, 104}, Stretch{105, 106}));
  ASSERT_TRUE(again.first_mismatch);
  EXPECT_EQ(again.first_mismatch->pos, 103);
  EXPECT_EQ(again.first_mismatch->recorded, 'd');
  EXPECT_EQ(again.first_mismatch->seen, 'X');
  EXPECT_EQ(r.at(105), 'f');  // the first copy wins
  EXPECT_EQ(r.at(107), 'h');
  EXPECT_FALSE(r.at(108));
  EXPECT_EQ(r.size(), 8U);
}

// put() into a result the caller keeps: each call's findings replace the last call's.
TEST(ByteRecord, AReusedResultHoldsOnlyTheLastPutsFindings) {
  ByteRecord r;
  ByteRecord::PutResult result;
  r.put(0, bytes("abcd"), result);
  r.put(2, bytes("cXef"), result);
  EXPECT_THAT(result.fresh, ElementsAre(Stretch{4, 6}));
  EXPECT_THAT(result.differing, ElementsAre(Stretch{3, 4}));
  ASSERT_TRUE(result.first_mismatch);
  r.put(0, bytes("abcdef"), result);  // the same bytes again: nothing new, nothing differs
  EXPECT_TRUE(result.fresh.empty());
  EXPECT_TRUE(result.differing.empty());
  EXPECT_FALSE(result.first_mismatch);
  r.put(2, bytes("X"), result);
  r.forget_below(10);
  r.put(0, bytes("Z"), result);  // below the floor: ignored, and the result says so
  EXPECT_TRUE(result.differing.empty());
  EXPECT_FALSE(result.first_mismatch);
}

TEST(ByteRecord, FillsHolesBetweenChunks) {
  ByteRecord r;
  r.put(0, bytes("ab"));
  r.put(4, bytes("ef"));
  auto fill = r.put(0, bytes("abcdefg"));
  EXPECT_THAT(fill.fresh, ElementsAre(Stretch{2, 4}, Stretch{6, 7}));
  EXPECT_FALSE(fill.first_mismatch);
  for (std::int64_t i = 0; i < 7; ++i) EXPECT_EQ(r.at(i), static_cast<std::uint8_t>('a' + i));
  EXPECT_EQ(r.size(), 7U);
}

TEST(ByteRecord, RunAtGivesTheBytesUpToTheNextGap) {
  ByteRecord r;
  r.put(0, bytes("abc"));
  r.put(5, bytes("fg"));
  auto text = [](std::span<const std::uint8_t> b) { return std::string(b.begin(), b.end()); };
  EXPECT_EQ(text(r.run_at(0)), "abc");
  EXPECT_EQ(text(r.run_at(2)), "c");
  EXPECT_TRUE(r.run_at(3).empty());  // the gap
  EXPECT_EQ(text(r.run_at(5)), "fg");
  EXPECT_TRUE(r.run_at(7).empty());
  EXPECT_TRUE(r.run_at(-1).empty());
  r.put(3, bytes("de"));  // the gap filled: one run
  EXPECT_EQ(text(r.run_at(1)), "bcdefg");
}

TEST(ByteRecord, ForgetsBelowAFloorAndIgnoresLaterCopiesThere) {
  ByteRecord r;
  r.put(0, bytes("abcdef"));
  r.forget_below(4);
  EXPECT_EQ(r.size(), 2U);
  EXPECT_FALSE(r.at(3));
  EXPECT_EQ(r.at(4), 'e');
  auto late = r.put(0, bytes("XXXXeZ"));
  EXPECT_TRUE(late.fresh.empty());
  ASSERT_TRUE(late.first_mismatch);
  EXPECT_EQ(late.first_mismatch->pos, 5);
  EXPECT_EQ(r.floor(), 4);
}

TEST(ByteRecord, HandlesPositionsFarApartCheaply) {
  ByteRecord r;
  r.put(0, bytes("a"));
  r.put(std::int64_t{1} << 40, bytes("b"));
  EXPECT_EQ(r.size(), 2U);
  EXPECT_EQ(r.at(std::int64_t{1} << 40), 'b');
}

}  // namespace
}  // namespace synack::oracle
