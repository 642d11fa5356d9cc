// The IPv4 layer of the stack's codec (RFC 791): the header fields the stack reads, the options
// it has to look at, and the address classes it must refuse (RFC 1122 3.2.1.3).
#pragma once

#include <cstdint>
#include <span>

namespace synack::stack {

// IANA protocol numbers (RFC 790) the stack handles.
namespace ip_proto {
inline constexpr std::uint8_t kIcmp = 1;
inline constexpr std::uint8_t kTcp = 6;
}  // namespace ip_proto

inline constexpr std::uint8_t kDefaultTtl = 64;  // Linux's net.ipv4.ip_default_ttl
// The two low bits of the TOS octet are the ECN field (RFC 3168 5), the six above it the
// Differentiated Services codepoint (RFC 2474 3).
inline constexpr std::uint8_t kEcnMask = 0x03;

// One parsed IPv4 header and the payload it carries. `payload` points into the caller's buffer.
struct Ipv4Packet {
  std::uint32_t src_addr = 0;  // host byte order
  std::uint32_t dst_addr = 0;
  std::uint8_t protocol = 0;
  std::uint8_t tos = 0;  // the Differentiated Services field and ECN (RFC 2474, RFC 3168)
  std::uint8_t ttl = 0;
  bool fragment = false;      // more-fragments set or a nonzero offset (no reassembly here)
  bool source_route = false;  // carries a Loose or Strict Source and Record Route option
  bool checksum_ok = false;   // the header checksum verifies
  std::span<const std::uint8_t> header;   // including options
  std::span<const std::uint8_t> payload;  // after the header, up to the total length
};

enum class Ipv4Status {
  kOk,
  kMalformed,  // truncated, version not 4, bad IHL or total length, malformed options
};

// Parses the IPv4 header of `packet`. Bytes past the total length (link-layer padding) are not
// part of the packet. Options are walked (RFC 791 3.1: EOL, NOP, then kind-length-value within
// the header) only to find source routes; the rest are skipped (RFC 9293 3.9.2, MUST-50).
Ipv4Status parse_ipv4(std::span<const std::uint8_t> packet, Ipv4Packet& out);

// Address classes (RFC 1122 3.2.1.3, RFC 1112 4, RFC 5771).
constexpr bool is_limited_broadcast(std::uint32_t a) { return a == 0xffffffffU; }
constexpr bool is_multicast(std::uint32_t a) { return (a & 0xf0000000U) == 0xe0000000U; }
// {0, <any>}: "this host on this network", a source only while a host learns its address.
constexpr bool is_this_network(std::uint32_t a) { return (a & 0xff000000U) == 0; }
// An address no segment may be sent to or accepted from as the other end of a connection
// (MUST-46, MUST-57, MUST-63).
constexpr bool is_broadcast_or_multicast(std::uint32_t a) {
  return is_limited_broadcast(a) || is_multicast(a);
}

}  // namespace synack::stack
