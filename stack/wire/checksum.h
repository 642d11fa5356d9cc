// The Internet checksum (RFC 1071) for the stack's codec, with the TCP pseudo-header of RFC 9293
// section 3.1. Separate from harness/wire/checksum.h on purpose: the stack shares no code with
// the harness that judges it.
#pragma once

#include <cstdint>
#include <span>

namespace synack::stack {

// Adds `data` to a running ones' complement sum as big-endian 16-bit words. A trailing odd byte
// is padded on the right with zero (RFC 1071 section 4.1), so only the last chunk of a sum may
// have an odd length. The sum is kept unfolded; 64 bits cannot overflow for any IPv4 packet.
std::uint64_t checksum_add(std::uint64_t sum, std::span<const std::uint8_t> data);

// Folds the carries back in and complements: the value that goes in the checksum field. Over
// data whose checksum field is already correct the result is 0.
std::uint16_t checksum_finish(std::uint64_t sum);

// The checksum of one contiguous block (the IPv4 header).
std::uint16_t internet_checksum(std::span<const std::uint8_t> data);

// The TCP checksum of `segment` (header and payload) sent from `src` to `dst`, covering the
// pseudo-header: source, destination, zero, protocol 6, TCP length (RFC 9293 section 3.1).
// `segment` must be at most 65535 bytes long.
std::uint16_t tcp_checksum(std::uint32_t src, std::uint32_t dst,
                           std::span<const std::uint8_t> segment);

}  // namespace synack::stack
