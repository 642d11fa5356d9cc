#include "stack/wire/checksum.h"

#include <cstddef>

namespace synack::stack {
namespace {

constexpr std::uint32_t kProtocolTcp = 6;

}  // namespace

std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::uint8_t> data) {
  const std::size_t even = data.size() & ~std::size_t{1};
  for (std::size_t i = 0; i < even; i += 2) {
    sum += (std::uint64_t{data[i]} << 8) | data[i + 1];
  }
  if (even != data.size()) sum += std::uint64_t{data[even]} << 8;
  return sum;
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
