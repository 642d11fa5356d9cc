#include "harness/wire/ipv4.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "harness/wire/checksum.h"

namespace synack::wire {
namespace {

// Field offsets in the fixed header (RFC 791 section 3.1).
constexpr std::size_t kVersionIhl = 0;
constexpr std::size_t kTos = 1;
constexpr std::size_t kTotalLength = 2;
constexpr std::size_t kId = 4;
constexpr std::size_t kFlagsFragment = 6;
constexpr std::size_t kTtl = 8;
constexpr std::size_t kProtocol = 9;
constexpr std::size_t kChecksum = 10;
constexpr std::size_t kSrc = 12;
constexpr std::size_t kDst = 16;

}  // namespace

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view text) {
  std::uint32_t value = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 4; ++i) {
    if (i > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    if (p == end || *p < '0' || *p > '9') return std::nullopt;
    unsigned octet = 0;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc() || octet > 255 || next - p > 3) return std::nullopt;
    value = (value << 8) | octet;
    p = next;
  }
  if (p != end) return std::nullopt;
  return Ipv4Addr{value};
}

std::string Ipv4Addr::to_string() const {
  std::string s;
  for (int shift = 24; shift >= 0; shift -= 8) {
    if (shift != 24) s += '.';
    s += std::to_string((value >> shift) & 0xff);
  }
  return s;
}

Result<Ipv4View> parse_ipv4(ByteSpan packet) {
  const ByteSpan b = packet;
  if (b.size() < kIpv4MinHeader) {
    return ParseError{WireError::kTruncated, b.size(),
                      "IPv4 header needs 20 bytes, have " + std::to_string(b.size())};
  }
  const unsigned version = b[kVersionIhl] >> 4;
  if (version != 4) {
    return ParseError{WireError::kBadVersion, kVersionIhl, "version " + std::to_string(version)};
  }
  const std::size_t ihl = b[kVersionIhl] & 0x0fU;
  if (ihl < 5) return ParseError{WireError::kBadIhl, kVersionIhl, "IHL " + std::to_string(ihl)};
  const std::size_t header_length = ihl * 4;
  if (b.size() < header_length) {
    return ParseError{WireError::kTruncated, b.size(),
                      "IHL announces " + std::to_string(header_length) + " header bytes, have " +
                          std::to_string(b.size())};
  }
  const std::uint16_t total_length = load_be16(b, kTotalLength);
  if (total_length < header_length) {
    return ParseError{WireError::kBadTotalLength, kTotalLength,
                      "total length " + std::to_string(total_length) + " < header length " +
                          std::to_string(header_length)};
  }
  if (b.size() < total_length) {
    return ParseError{WireError::kTruncated, b.size(),
                      "total length " + std::to_string(total_length) + ", have " +
                          std::to_string(b.size()) + " bytes"};
  }

  Ipv4View v;
  Ipv4Header& h = v.header;
  h.tos = b[kTos];
  h.id = load_be16(b, kId);
  const std::uint16_t ff = load_be16(b, kFlagsFragment);
  h.flags = static_cast<std::uint8_t>(ff >> 13);
  h.fragment_offset = ff & 0x1fffU;
  h.ttl = b[kTtl];
  h.protocol = b[kProtocol];
  h.src = Ipv4Addr{load_be32(b, kSrc)};
  h.dst = Ipv4Addr{load_be32(b, kDst)};
  h.options.assign(b.begin() + kIpv4MinHeader,
                   b.begin() + static_cast<std::ptrdiff_t>(header_length));
  h.ihl = static_cast<std::uint8_t>(ihl);
  h.total_length = total_length;
  h.checksum = load_be16(b, kChecksum);

  v.header_length = header_length;
  v.payload = b.subspan(header_length, total_length - header_length);
  v.checksum_ok = internet_checksum(b.first(header_length)) == 0;
  return v;
}

void emit_ipv4_header(const Ipv4Header& h, std::size_t payload_length, Bytes& out) {
  const std::size_t start = out.size();
  out.resize(start + h.emitted_header_length(), 0);
  try {
    write_ipv4_header(h, payload_length, std::span<std::uint8_t>(out).subspan(start));
  } catch (...) {
    out.resize(start);
    throw;
  }
}

void write_ipv4_header(const Ipv4Header& h, std::size_t payload_length, std::span<std::uint8_t> w) {
  if (h.options.size() > kIpv4MaxHeader - kIpv4MinHeader) {
    throw std::length_error("IPv4 options are " + std::to_string(h.options.size()) +
                            " bytes; at most 40 fit");
  }
  const std::size_t header_length = h.emitted_header_length();
  std::fill(w.begin(), w.end(), std::uint8_t{0});

  const std::uint8_t ihl = h.ihl.value_or(static_cast<std::uint8_t>(header_length / 4));
  w[kVersionIhl] = static_cast<std::uint8_t>(0x40U | (ihl & 0x0fU));
  w[kTos] = h.tos;
  store_be16(w, kTotalLength,
             h.total_length.value_or(static_cast<std::uint16_t>(header_length + payload_length)));
  store_be16(w, kId, h.id);
  store_be16(w, kFlagsFragment,
             static_cast<std::uint16_t>(((h.flags & 0x7U) << 13) | (h.fragment_offset & 0x1fffU)));
  w[kTtl] = h.ttl;
  w[kProtocol] = h.protocol;
  store_be32(w, kSrc, h.src.value);
  store_be32(w, kDst, h.dst.value);
  std::copy(h.options.begin(), h.options.end(), w.begin() + kIpv4MinHeader);
  store_be16(w, kChecksum, h.checksum.value_or(internet_checksum(w)));
}

}  // namespace synack::wire
