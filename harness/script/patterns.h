// The bytes a script's data carries, in one place so that whatever writes a script for the
// runner (synack replay, from a fuzz input) can make the same bytes the runner will.
#pragma once

#include <cstddef>
#include <cstdint>
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

// pattern_byte(first + i) into out[i] for every byte of `out` (the sequence number wrapping at
// 2^32 as it does in pattern_byte), without a division per byte.
inline void fill_pattern(std::span<std::uint8_t> out, std::uint32_t first) {
  std::uint32_t seq = first;
  std::uint32_t r = first % 26;
  for (std::uint8_t& b : out) {
    b = static_cast<std::uint8_t>('a' + r);
    ++seq;
    r = (seq == 0 || r == 25) ? 0 : r + 1;
  }
}

// write_byte(first + i) into out[i] for every byte of `out`.
inline void fill_write(std::span<std::uint8_t> out, std::size_t first) {
  std::size_t r = first % 26;
  for (std::uint8_t& b : out) {
    b = static_cast<std::uint8_t>('A' + r);
    r = r == 25 ? 0 : r + 1;
  }
}

}  // namespace synack::script
