#include "harness/wire/icmp.h"

#include <algorithm>
#include <array>
#include <span>

#include "harness/wire/checksum.h"

namespace synack::wire {
namespace {

// Field offsets in the ICMP header (RFC 792).
constexpr std::size_t kType = 0;
constexpr std::size_t kCode = 1;
constexpr std::size_t kChecksum = 2;
constexpr std::size_t kRest = 4;

struct Named {
  std::uint8_t value;
  std::string_view name;
};

constexpr std::array<Named, 4> kTypes = {{{icmp_type::kDestinationUnreachable, "unreachable"},
                                          {icmp_type::kSourceQuench, "source_quench"},
                                          {icmp_type::kTimeExceeded, "time_exceeded"},
                                          {icmp_type::kParameterProblem, "parameter_problem"}}};

// RFC 792, RFC 1122 3.2.2.1 and RFC 1812 5.2.7.1 (codes 6-15), named as packetdrill does.
constexpr std::array<Named, 16> kUnreachableCodes = {{{0, "net_unreachable"},
                                                      {1, "host_unreachable"},
                                                      {2, "protocol_unreachable"},
                                                      {3, "port_unreachable"},
                                                      {4, "frag_needed"},
                                                      {5, "source_route_failed"},
                                                      {6, "net_unknown"},
                                                      {7, "host_unknown"},
                                                      {8, "source_host_isolated"},
                                                      {9, "net_prohibited"},
                                                      {10, "host_prohibited"},
                                                      {11, "net_unreachable_for_tos"},
                                                      {12, "host_unreachable_for_tos"},
                                                      {13, "packet_filtered"},
                                                      {14, "precedence_violation"},
                                                      {15, "precedence_cutoff"}}};
constexpr std::array<Named, 2> kTimeExceededCodes = {
    {{0, "ttl_exceeded"}, {1, "frag_reassembly_time_exceeded"}}};
constexpr std::array<Named, 3> kParameterProblemCodes = {
    {{0, "pointer_indicates_error"}, {1, "missing_required_option"}, {2, "bad_length"}}};

std::span<const Named> codes_of(std::uint8_t type) {
  switch (type) {
    case icmp_type::kDestinationUnreachable:
      return kUnreachableCodes;
    case icmp_type::kTimeExceeded:
      return kTimeExceededCodes;
    case icmp_type::kParameterProblem:
      return kParameterProblemCodes;
    default:
      return {};
  }
}

std::optional<std::uint8_t> by_name(std::span<const Named> table, std::string_view name) {
  for (const Named& n : table) {
    if (n.name == name) return n.value;
  }
  return std::nullopt;
}

std::string name_of(std::span<const Named> table, std::uint8_t value) {
  for (const Named& n : table) {
    if (n.value == value) return std::string(n.name);
  }
  return std::to_string(value);
}

}  // namespace

std::string icmp_type_name(std::uint8_t type) { return name_of(kTypes, type); }
std::string icmp_code_name(std::uint8_t type, std::uint8_t code) {
  return name_of(codes_of(type), code);
}
std::optional<std::uint8_t> icmp_type_by_name(std::string_view name) {
  return by_name(kTypes, name);
}
std::optional<std::uint8_t> icmp_code_by_name(std::uint8_t type, std::string_view name) {
  return by_name(codes_of(type), name);
}
std::string icmp_code_names(std::uint8_t type) {
  std::string s;
  for (const Named& n : codes_of(type)) {
    if (!s.empty()) s += ", ";
    s += n.name;
  }
  return s;
}

Bytes icmp_quote(const Ipv4Header& original, std::size_t original_payload_length,
                 ByteSpan transport) {
  Bytes out;
  emit_ipv4_header(original, original_payload_length, out);
  const std::size_t n = std::min(transport.size(), kIcmpQuotedData);
  out.insert(out.end(), transport.begin(), transport.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

Result<IcmpPacket> parse_icmp_packet(ByteSpan packet) {
  Result<Ipv4View> ip = parse_ipv4(packet);
  if (!ip) return ip.error();
  const Ipv4View& v = *ip;
  if (v.header.protocol != kIpProtoIcmp) {
    return ParseError{WireError::kNotIcmp, 9, "protocol " + std::to_string(v.header.protocol)};
  }
  if ((v.header.flags & kIpFlagMoreFragments) != 0 || v.header.fragment_offset != 0) {
    return ParseError{WireError::kFragmented, 6,
                      "fragment offset " + std::to_string(v.header.fragment_offset) +
                          ((v.header.flags & kIpFlagMoreFragments) != 0 ? ", MF set" : "")};
  }
  const ByteSpan m = v.payload;
  if (m.size() < kIcmpHeader) {
    return ParseError{WireError::kTruncated, v.header_length + m.size(),
                      "ICMP header needs 8 bytes, have " + std::to_string(m.size())};
  }
  IcmpPacket p;
  p.ip = v.header;
  p.ip_checksum_ok = v.checksum_ok;
  p.icmp.type = m[kType];
  p.icmp.code = m[kCode];
  p.icmp.checksum = load_be16(m, kChecksum);
  p.icmp.rest = load_be32(m, kRest);
  p.icmp.body.assign(m.begin() + kIcmpHeader, m.end());
  p.icmp_checksum_ok = internet_checksum(m) == 0;  // RFC 792: over the whole ICMP message
  return p;
}

Bytes emit(const IcmpPacket& p) {
  Bytes msg(kIcmpHeader, 0);
  msg[kType] = p.icmp.type;
  msg[kCode] = p.icmp.code;
  store_be32(msg, kRest, p.icmp.rest);
  msg.insert(msg.end(), p.icmp.body.begin(), p.icmp.body.end());
  store_be16(msg, kChecksum, p.icmp.checksum.value_or(internet_checksum(msg)));
  Ipv4Header h = p.ip;
  h.protocol = kIpProtoIcmp;
  Bytes out;
  emit_ipv4_header(h, msg.size(), out);
  out.insert(out.end(), msg.begin(), msg.end());
  return out;
}

}  // namespace synack::wire
