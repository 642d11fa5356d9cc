// The bytes a script's data carries, in one place so that whatever writes a script for the
// runner (synack replay, from a fuzz input) can make the same bytes the runner will.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace synack::script {

// A harness (inbound) segment's payload byte at relative sequence number `relative_seq`
// (relative to the harness's ISN): a pattern tied to the sequence number, so a retransmission
// carries the same bytes as the original.
inline std::uint8_t pattern_byte(std::uint32_t relative_seq) {
  return static_cast<std::uint8_t>('a' + relative_seq % 26);
}

// The target application's write() data: byte `offset` of everything the script has asked to
// write so far, over all its fds, counting each call's requested length (accepted or not).
inline std::uint8_t write_byte(std::size_t offset) {
  return static_cast<std::uint8_t>('A' + offset % 26);
}

namespace detail {

inline constexpr std::size_t kCycleChunk = std::size_t{26} * 40;

// base + i % 26 for i in [0, kCycleChunk + 26).
constexpr std::array<std::uint8_t, kCycleChunk + 26> cycle_table(std::uint8_t base) {
  std::array<std::uint8_t, kCycleChunk + 26> t{};
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(base + i % 26);
  return t;
}
inline constexpr auto kLowerCycle = cycle_table('a');
inline constexpr auto kUpperCycle = cycle_table('A');

// table[phase + i] into out[i]: whole chunks of cycles, after which the phase is where it was.
inline void fill_cycle(std::span<std::uint8_t> out, std::size_t phase,
                       const std::array<std::uint8_t, kCycleChunk + 26>& table) {
  while (!out.empty()) {
    const std::size_t n = std::min(out.size(), kCycleChunk);
    std::memcpy(out.data(), table.data() + phase, n);
    out = out.subspan(n);
  }
}

}  // namespace detail

// pattern_byte(first + i) into out[i] for every byte of `out` (the sequence number wraps at
// 2^32 as it does in pattern_byte, where the pattern restarts at 'a').
inline void fill_pattern(std::span<std::uint8_t> out, std::uint32_t first) {
  const std::uint64_t to_wrap = (std::uint64_t{1} << 32) - first;
  const std::size_t before = out.size() < to_wrap ? out.size() : static_cast<std::size_t>(to_wrap);
  detail::fill_cycle(out.first(before), first % 26, detail::kLowerCycle);
  detail::fill_cycle(out.subspan(before), 0, detail::kLowerCycle);
}

// write_byte(first + i) into out[i] for every byte of `out`.
inline void fill_write(std::span<std::uint8_t> out, std::size_t first) {
  detail::fill_cycle(out, first % 26, detail::kUpperCycle);
}

}  // namespace synack::script
