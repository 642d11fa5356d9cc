// The Internet checksum (RFC 1071) and the TCP pseudo-header sum (RFC 9293 section 3.1).
#pragma once

#include <cstdint>

#include "harness/wire/bytes.h"

namespace synack::wire {

// Accumulates 16-bit big-endian words; odd-length chunks are handled across calls, so a header
// and a payload can be added separately and the result equals one pass over their concatenation.
class ChecksumAccumulator {
 public:
  void add(ByteSpan data);
  void add16(std::uint16_t word);
  void add32(std::uint32_t v) {
    add16(static_cast<std::uint16_t>(v >> 16));
    add16(static_cast<std::uint16_t>(v));
  }
  // The ones' complement of the ones' complement sum: the value to store in the header. Over data
  // that already contains a correct checksum this yields 0.
  std::uint16_t finish() const;

 private:
  std::uint64_t sum_ = 0;
  bool odd_ = false;  // an odd byte is pending in the high half of the next word
};

std::uint16_t internet_checksum(ByteSpan data);

// Adds the IPv4 pseudo-header (source, destination, zero, protocol, TCP length).
void add_ipv4_pseudo_header(ChecksumAccumulator& acc, std::uint32_t src, std::uint32_t dst,
                            std::uint8_t protocol, std::uint16_t length);

}  // namespace synack::wire
