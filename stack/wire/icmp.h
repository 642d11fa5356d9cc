// ICMP for IPv4 (RFC 792) as far as TCP needs it: the error messages that quote a segment the
// stack sent (RFC 9293 3.9.2.2, RFC 1122 4.2.3.9, RFC 5927). The stack never sends ICMP.
#pragma once

#include <cstdint>
#include <span>

#include "stack/wire/ipv4.h"

namespace synack::stack {

namespace icmp_type {
inline constexpr std::uint8_t kEchoReply = 0;
inline constexpr std::uint8_t kDestinationUnreachable = 3;
inline constexpr std::uint8_t kSourceQuench = 4;  // deprecated (RFC 6633)
inline constexpr std::uint8_t kRedirect = 5;
inline constexpr std::uint8_t kEchoRequest = 8;
inline constexpr std::uint8_t kTimeExceeded = 11;
inline constexpr std::uint8_t kParameterProblem = 12;
}  // namespace icmp_type

// Destination Unreachable codes (RFC 792; 6-12 from RFC 1122 3.2.2.1; 13-15 from RFC 1812).
namespace icmp_unreachable {
inline constexpr std::uint8_t kNet = 0;
inline constexpr std::uint8_t kHost = 1;
inline constexpr std::uint8_t kProtocol = 2;
inline constexpr std::uint8_t kPort = 3;
inline constexpr std::uint8_t kFragmentationNeeded = 4;  // and DF set
inline constexpr std::uint8_t kSourceRouteFailed = 5;
inline constexpr std::uint8_t kPrecedenceCutoff = 15;  // the highest code defined
}  // namespace icmp_unreachable

struct IcmpMessage {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  std::uint32_t rest = 0;  // the second word: unused, a pointer, a next-hop MTU (RFC 1191)
  // Error messages (Destination Unreachable, Source Quench, Redirect, Time Exceeded, Parameter
  // Problem) carry the IPv4 header and at least the first 8 octets of the datagram that caused
  // them (RFC 792; RFC 1812 4.3.2.3 allows more). For a TCP segment those 8 octets are the ports
  // and the sequence number (RFC 5927 4.1), which is all the quote is read for.
  bool is_error = false;
  std::uint32_t quoted_src = 0;
  std::uint32_t quoted_dst = 0;
  std::uint8_t quoted_protocol = 0;
  bool quoted_first_fragment = false;  // fragment offset 0: the quote starts at its TCP header
  std::uint16_t quoted_src_port = 0;
  std::uint16_t quoted_dst_port = 0;
  std::uint32_t quoted_seq = 0;
};

enum class IcmpStatus {
  kOk,
  kMalformed,    // shorter than 8 octets, or an error whose quote is not an IPv4 header + 8
  kBadChecksum,  // the ICMP checksum (over the whole message) does not verify
};

// Parses the ICMP message an IPv4 packet with protocol 1 carries (its payload).
IcmpStatus parse_icmp(std::span<const std::uint8_t> message, IcmpMessage& out);

}  // namespace synack::stack
