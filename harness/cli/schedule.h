// synack run's schedule on several lanes: the order cases start in, and when each lane starts
// its first case.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

namespace synack::cli {

// Indices into `spans` (each case's script span in microseconds, cases in name order) in the
// order the cases start: name order, except on a real-time target with several jobs, where the
// longest scripts start first (ties in name order), so that the run is not as long as its last
// long case.
inline std::vector<std::size_t> start_order(const std::vector<std::int64_t>& spans, bool real_time,
                                            int jobs) {
  std::vector<std::size_t> order(spans.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (real_time && jobs > 1) {
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return spans[a] > spans[b]; });
  }
  return order;
}

// Between the first cases of two lanes on a real-time target. Every lane starting its first case
// at the same instant makes a burst of work (connect to the agent, reset, socket calls, the
// handshake) on both ends of every lane at once, and a case's opening holds the tightest timing
// (a SYN,ACK within the 4 ms tolerance floor, 10 ms under the sanitizers). With 8 lanes of
// `synack serve` on 2 CPUs under ASan, 5 of the 8 first cases (the longest scripts) missed their
// first SYN,ACK by 15 to 23 ms, and serve-e2e.sh runs each failed case again alone, for its
// whole span (65 to 103 s each): 552 s on top of a 180 s run. Started 250 ms apart, none
// failed. Later, cases end at different times, and a lane starts its next case as one ends.
inline constexpr std::chrono::milliseconds kLaneStagger{250};

// How long after the run starts lane `lane` (0 to jobs - 1) starts its first case: at once on
// lane 0 and on a virtual-time target (no timing to miss), kLaneStagger after the lane before
// otherwise. With 8 lanes the last starts 1.75 s in; lane 0, which takes the longest script,
// starts at once.
inline std::chrono::milliseconds first_case_delay(std::size_t lane, bool real_time) {
  if (!real_time) return std::chrono::milliseconds{0};
  return kLaneStagger * static_cast<std::int64_t>(lane);
}

}  // namespace synack::cli
