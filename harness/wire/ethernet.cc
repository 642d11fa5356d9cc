#include "harness/wire/ethernet.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace synack::wire {
namespace {

constexpr std::size_t kEthDst = 0;
constexpr std::size_t kEthSrc = 6;
constexpr std::size_t kEthType = 12;

// ARP field offsets for Ethernet/IPv4 (RFC 826).
constexpr std::size_t kArpHtype = 0;
constexpr std::size_t kArpPtype = 2;
constexpr std::size_t kArpHlen = 4;
constexpr std::size_t kArpPlen = 5;
constexpr std::size_t kArpOp = 6;
constexpr std::size_t kArpSha = 8;
constexpr std::size_t kArpSpa = 14;
constexpr std::size_t kArpTha = 18;
constexpr std::size_t kArpTpa = 24;
constexpr std::uint16_t kHtypeEthernet = 1;

MacAddr load_mac(ByteSpan b, std::size_t at) {
  MacAddr m;
  std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), 6, m.octets.begin());
  return m;
}

void append_mac(Bytes& out, const MacAddr& m) {
  out.insert(out.end(), m.octets.begin(), m.octets.end());
}

}  // namespace

std::optional<MacAddr> MacAddr::parse(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  MacAddr m;
  for (std::size_t i = 0; i < 6; ++i) {
    const std::size_t at = i * 3;
    if (i > 0 && text[at - 1] != ':') return std::nullopt;
    unsigned v = 0;
    auto [next, ec] = std::from_chars(text.data() + at, text.data() + at + 2, v, 16);
    if (ec != std::errc() || next != text.data() + at + 2) return std::nullopt;
    m.octets[i] = static_cast<std::uint8_t>(v);
  }
  return m;
}

std::string MacAddr::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", octets[0], octets[1], octets[2],
                octets[3], octets[4], octets[5]);
  return buf;
}

Result<EthernetView> parse_ethernet(ByteSpan frame) {
  if (frame.size() < kEthernetHeader) {
    return ParseError{WireError::kBadEthernet, frame.size(),
                      "have " + std::to_string(frame.size()) + " bytes"};
  }
  EthernetView v;
  v.header.dst = load_mac(frame, kEthDst);
  v.header.src = load_mac(frame, kEthSrc);
  v.header.ethertype = load_be16(frame, kEthType);
  v.payload = frame.subspan(kEthernetHeader);
  return v;
}

Bytes emit_ethernet(const EthernetHeader& h, ByteSpan payload) {
  Bytes out;
  out.reserve(kEthernetHeader + payload.size());
  append_mac(out, h.dst);
  append_mac(out, h.src);
  append_be16(out, h.ethertype);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<ArpPacket> parse_arp(ByteSpan payload) {
  const ByteSpan b = payload;
  if (b.size() < 8) {
    return ParseError{WireError::kTruncated, b.size(),
                      "ARP header needs 8 bytes, have " + std::to_string(b.size())};
  }
  const std::uint16_t htype = load_be16(b, kArpHtype);
  const std::uint16_t ptype = load_be16(b, kArpPtype);
  if (htype != kHtypeEthernet || ptype != ethertype::kIpv4 || b[kArpHlen] != 6 ||
      b[kArpPlen] != 4) {
    return ParseError{WireError::kUnsupportedArp, 0,
                      "htype " + std::to_string(htype) + " ptype " + std::to_string(ptype) +
                          " hlen " + std::to_string(b[kArpHlen]) + " plen " +
                          std::to_string(b[kArpPlen])};
  }
  if (b.size() < kArpEthernetIpv4Length) {
    return ParseError{WireError::kTruncated, b.size(),
                      "Ethernet/IPv4 ARP needs 28 bytes, have " + std::to_string(b.size())};
  }
  ArpPacket a;
  a.op = load_be16(b, kArpOp);
  a.sender_mac = load_mac(b, kArpSha);
  a.sender_ip = Ipv4Addr{load_be32(b, kArpSpa)};
  a.target_mac = load_mac(b, kArpTha);
  a.target_ip = Ipv4Addr{load_be32(b, kArpTpa)};
  return a;
}

Bytes emit_arp(const ArpPacket& a) {
  Bytes out;
  out.reserve(kArpEthernetIpv4Length);
  append_be16(out, kHtypeEthernet);
  append_be16(out, ethertype::kIpv4);
  out.push_back(6);
  out.push_back(4);
  append_be16(out, a.op);
  append_mac(out, a.sender_mac);
  append_be32(out, a.sender_ip.value);
  append_mac(out, a.target_mac);
  append_be32(out, a.target_ip.value);
  return out;
}

}  // namespace synack::wire
