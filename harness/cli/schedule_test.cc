#include "harness/cli/schedule.h"

#include <gtest/gtest.h>

namespace synack::cli {
namespace {

using std::chrono::milliseconds;

TEST(StartOrder, NameOrderOnVirtualTimeOrWithOneJob) {
  const std::vector<std::int64_t> spans = {1, 30, 20};
  EXPECT_EQ(start_order(spans, /*real_time=*/false, 8), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(start_order(spans, /*real_time=*/true, 1), (std::vector<std::size_t>{0, 1, 2}));
}

TEST(StartOrder, LongestFirstOnRealTimeWithSeveralJobsTiesInNameOrder) {
  const std::vector<std::int64_t> spans = {5, 100, 5, 7, 100};
  EXPECT_EQ(start_order(spans, /*real_time=*/true, 2), (std::vector<std::size_t>{1, 4, 3, 0, 2}));
}

TEST(FirstCaseDelay, LanesStartApartOnRealTime) {
  EXPECT_EQ(first_case_delay(0, /*real_time=*/true), milliseconds(0));
  EXPECT_EQ(first_case_delay(1, /*real_time=*/true), kLaneStagger);
  EXPECT_EQ(first_case_delay(7, /*real_time=*/true), 7 * kLaneStagger);
  // Eight lanes are all going within 2 s: nothing near a real-time case's own length.
  EXPECT_LT(first_case_delay(7, /*real_time=*/true), milliseconds(2000));
}

TEST(FirstCaseDelay, AllAtOnceInVirtualTime) {
  for (std::size_t lane = 0; lane < 8; ++lane) {
    EXPECT_EQ(first_case_delay(lane, /*real_time=*/false), milliseconds(0));
  }
}

}  // namespace
}  // namespace synack::cli
