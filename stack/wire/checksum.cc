#include "stack/wire/checksum.h"

#include <bit>
#include <cstddef>
#include <cstring>

namespace synack::stack {
namespace {

constexpr std::uint32_t kProtocolTcp = 6;

}  // namespace

std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::uint8_t> data) {
  // RFC 1071 section 2(B), byte-order independence: sum the data as native-order words (eight
  // bytes at a time), fold to 16 bits, and swap once to big-endian on a little-endian host. The
  // result equals summing big-endian 16-bit words one by one, in a fraction of the time.
  const std::uint8_t* p = data.data();
  const std::size_t n = data.size();
  std::uint64_t acc = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, 8);
    acc += (w & 0xffffffffU) + (w >> 32);  // each half below 2^32: no overflow for any packet
  }
  for (; i + 2 <= n; i += 2) {
    std::uint16_t w = 0;
    std::memcpy(&w, p + i, 2);
    acc += w;
  }
  if (i < n) {
    // A final odd byte is the high-order byte of a zero-padded big-endian word.
    acc +=
        std::endian::native == std::endian::little ? std::uint64_t{p[i]} : std::uint64_t{p[i]} << 8;
  }
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >> 16);
  if constexpr (std::endian::native == std::endian::little) {
    acc = ((acc & 0xff) << 8) | (acc >> 8);
  }
  return sum + acc;
}

std::uint16_t checksum_finish(std::uint64_t sum) {
  // RFC 1071 section 4.1: fold the 32-bit (here 64-bit) sum to 16 bits, end-around carry.
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> data) {
  return checksum_finish(checksum_add(0, data));
}

std::uint16_t tcp_checksum(std::uint32_t src, std::uint32_t dst,
                           std::span<const std::uint8_t> segment) {
  // The pseudo-header as 16-bit words: src, dst, (zero, protocol), TCP length.
  std::uint64_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
  sum += kProtocolTcp;
  sum += segment.size();
  return checksum_finish(checksum_add(sum, segment));
}

}  // namespace synack::stack
