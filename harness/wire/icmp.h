// ICMP error messages (RFC 792) carried in IPv4, as value types: what a router or a host says
// about a datagram the target sent (destination unreachable, source quench, time exceeded,
// parameter problem), quoting that datagram's IP header and first 8 bytes of its payload.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "harness/wire/bytes.h"
#include "harness/wire/ipv4.h"
#include "harness/wire/result.h"

namespace synack::wire {

inline constexpr std::uint8_t kIpProtoIcmp = 1;
inline constexpr std::size_t kIcmpHeader = 8;  // type, code, checksum, 4 type-specific bytes
// RFC 792: an error message quotes the datagram's IP header and the first 64 bits of its data.
inline constexpr std::size_t kIcmpQuotedData = 8;

namespace icmp_type {
inline constexpr std::uint8_t kDestinationUnreachable = 3;  // RFC 792
inline constexpr std::uint8_t kSourceQuench = 4;            // RFC 792 (deprecated: RFC 6633)
inline constexpr std::uint8_t kTimeExceeded = 11;           // RFC 792
inline constexpr std::uint8_t kParameterProblem = 12;       // RFC 792
}  // namespace icmp_type

// Destination unreachable codes (RFC 792, RFC 1122 3.2.2.1, RFC 1812 5.2.7.1).
namespace icmp_unreachable {
inline constexpr std::uint8_t kNet = 0;
inline constexpr std::uint8_t kHost = 1;
inline constexpr std::uint8_t kProtocol = 2;
inline constexpr std::uint8_t kPort = 3;
inline constexpr std::uint8_t kFragNeeded = 4;  // RFC 1191: the next-hop MTU rides along
inline constexpr std::uint8_t kSourceRouteFailed = 5;
}  // namespace icmp_unreachable

struct IcmpMessage {
  std::uint8_t type = 0;
  std::uint8_t code = 0;
  // Bytes 4..7 of the header: unused (zero) for most errors; for "fragmentation needed" the low
  // 16 bits are the next-hop MTU (RFC 1191 4); for parameter problem the top byte is the pointer.
  std::uint32_t rest = 0;
  Bytes body;  // for errors: the quoted IP header and the first 8 bytes of its payload
  // As in Ipv4Header: filled by parsing, computed on emit when empty, emitted verbatim when set.
  std::optional<std::uint16_t> checksum;
};

// An IPv4 packet carrying an ICMP message.
struct IcmpPacket {
  Ipv4Header ip;  // protocol is set to kIpProtoIcmp on emit
  IcmpMessage icmp;
  bool ip_checksum_ok = true;  // set by parse_icmp_packet
  bool icmp_checksum_ok = true;
};

// The body of an ICMP error about `original`: its header (options and all, with the lengths and
// checksum it would be emitted with) and the first 8 bytes of `transport` (fewer if shorter).
Bytes icmp_quote(const Ipv4Header& original, std::size_t original_payload_length,
                 ByteSpan transport);

// After the IPv4 checks (see parse_ipv4): protocol is ICMP, not a fragment, 8 bytes of ICMP
// header. A checksum that does not verify is flagged, not rejected.
Result<IcmpPacket> parse_icmp_packet(ByteSpan packet);

// Serialises the packet, computing the IPv4 lengths and both checksums left empty.
Bytes emit(const IcmpPacket& p);

// The names the script language uses for types and codes (packetdrill's): "unreachable",
// "port_unreachable", "time_exceeded", "ttl_exceeded", ... Unnamed values print as numbers.
std::string icmp_type_name(std::uint8_t type);
std::string icmp_code_name(std::uint8_t type, std::uint8_t code);
std::optional<std::uint8_t> icmp_type_by_name(std::string_view name);
std::optional<std::uint8_t> icmp_code_by_name(std::uint8_t type, std::string_view name);
// The code names of a type, comma-separated, for messages ("" when it has none).
std::string icmp_code_names(std::uint8_t type);

}  // namespace synack::wire
