#include "harness/wire/seq.h"

#include <gtest/gtest.h>

namespace synack::wire {
namespace {

TEST(Seq, ComparesAcrossTheWrap) {
  const Seq before_wrap(0xfffffff0U);
  const Seq after_wrap(0x10);
  EXPECT_TRUE(before_wrap.lt(after_wrap));
  EXPECT_TRUE(after_wrap.gt(before_wrap));
  EXPECT_FALSE(after_wrap.lt(before_wrap));
  EXPECT_EQ(after_wrap - before_wrap, 0x20);
  EXPECT_EQ(before_wrap - after_wrap, -0x20);
}

TEST(Seq, LessOrEqualIncludesEquality) {
  const Seq a(5);
  EXPECT_TRUE(a.le(a));
  EXPECT_TRUE(a.ge(a));
  EXPECT_FALSE(a.lt(a));
  EXPECT_FALSE(a.gt(a));
}

TEST(Seq, AdditionWrapsModulo2To32) {
  EXPECT_EQ((Seq(0xffffffffU) + 2).raw(), 1U);
  EXPECT_EQ((Seq(1) - 2).raw(), 0xffffffffU);
  Seq s(0xfffffffeU);
  s += 3;
  EXPECT_EQ(s.raw(), 1U);
}

TEST(Seq, HalfTheSpaceAwayIsAhead) {
  // RFC 9293 3.4 comparisons hold for distances below 2^31; exactly 2^31 is the boundary where
  // the signed distance is negative both ways round.
  EXPECT_TRUE(Seq(0x7fffffffU).gt(Seq(0)));
  EXPECT_TRUE(Seq(0x80000000U).lt(Seq(0)));
}

TEST(Seq, InWindowIsHalfOpen) {
  const Seq start(0xfffffffeU);
  EXPECT_TRUE(start.in_window(start, 4));
  EXPECT_TRUE((start + 3).in_window(start, 4));  // 1, across the wrap
  EXPECT_FALSE((start + 4).in_window(start, 4));
  EXPECT_FALSE((start - 1).in_window(start, 4));
}

TEST(Seq, EmptyWindowContainsNothing) { EXPECT_FALSE(Seq(7).in_window(Seq(7), 0)); }

TEST(Seq, InRangeIsInclusiveAndWrapSafe) {
  const Seq first(0xffffff00U);
  const Seq last(0x100);
  EXPECT_TRUE(first.in_range(first, last));
  EXPECT_TRUE(last.in_range(first, last));
  EXPECT_TRUE(Seq(0).in_range(first, last));
  EXPECT_FALSE(Seq(0x101).in_range(first, last));
  EXPECT_FALSE(Seq(0xfffffeffU).in_range(first, last));
}

TEST(Seq, SpanCountsForward) {
  EXPECT_EQ(seq_span(Seq(0xfffffff0U), Seq(0x10)), 0x20U);
  EXPECT_EQ(seq_span(Seq(5), Seq(5)), 0U);
}

}  // namespace
}  // namespace synack::wire
