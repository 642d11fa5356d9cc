#include "stack/wire/ipv4.h"

#include <cstddef>

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"

namespace synack::stack {
namespace {

using wire::get16;
using wire::get32;

// Field offsets in the fixed IPv4 header (RFC 791 section 3.1).
constexpr std::size_t kVersionIhl = 0;
constexpr std::size_t kTos = 1;
constexpr std::size_t kTotalLength = 2;
constexpr std::size_t kFlagsFragment = 6;
constexpr std::size_t kTtl = 8;
constexpr std::size_t kProtocol = 9;
constexpr std::size_t kSrc = 12;
constexpr std::size_t kDst = 16;
constexpr std::size_t kMinHeader = 20;

constexpr std::uint8_t kVersion4 = 4;
constexpr std::uint16_t kFlagMoreFragments = 0x2000;  // flags bit 2
constexpr std::uint16_t kFragmentOffsetMask = 0x1fff;

// Option types (RFC 791 3.1; the copied flag and class are part of the type octet).
constexpr std::uint8_t kOptEol = 0;
constexpr std::uint8_t kOptNop = 1;
constexpr std::uint8_t kOptLsrr = 131;  // Loose Source and Record Route
constexpr std::uint8_t kOptSsrr = 137;  // Strict Source and Record Route

// Walks the option space: false when an option's length is below 2 or runs past the header
// (Linux's ip_options_compile drops such a packet too).
bool walk_options(std::span<const std::uint8_t> space, Ipv4Packet& out) {
  std::size_t at = 0;
  while (at < space.size()) {
    const std::uint8_t type = space[at];
    if (type == kOptEol) return true;
    if (type == kOptNop) {
      ++at;
      continue;
    }
    if (at + 1 >= space.size()) return false;
    const std::size_t length = space[at + 1];
    if (length < 2 || length > space.size() - at) return false;
    if (type == kOptLsrr || type == kOptSsrr) out.source_route = true;
    at += length;
  }
  return true;
}

}  // namespace

Ipv4Status parse_ipv4(std::span<const std::uint8_t> packet, Ipv4Packet& out) {
  out = Ipv4Packet{};
  if (packet.size() < kMinHeader) return Ipv4Status::kMalformed;
  const std::uint8_t version_ihl = packet[kVersionIhl];
  if ((version_ihl >> 4) != kVersion4) return Ipv4Status::kMalformed;
  const std::size_t header_length = std::size_t{version_ihl & 0x0fU} * 4;
  if (header_length < kMinHeader || header_length > packet.size()) return Ipv4Status::kMalformed;
  const std::size_t total_length = get16(packet, kTotalLength);
  if (total_length < header_length || total_length > packet.size()) return Ipv4Status::kMalformed;
  const auto whole = packet.first(total_length);
  out.header = whole.first(header_length);
  out.payload = whole.subspan(header_length);
  out.src_addr = get32(whole, kSrc);
  out.dst_addr = get32(whole, kDst);
  out.protocol = whole[kProtocol];
  out.tos = whole[kTos];
  out.ttl = whole[kTtl];
  const std::uint16_t flags_fragment = get16(whole, kFlagsFragment);
  out.fragment =
      (flags_fragment & kFlagMoreFragments) != 0 || (flags_fragment & kFragmentOffsetMask) != 0;
  out.checksum_ok = internet_checksum(out.header) == 0;
  if (!walk_options(out.header.subspan(kMinHeader), out)) return Ipv4Status::kMalformed;
  return Ipv4Status::kOk;
}

}  // namespace synack::stack
