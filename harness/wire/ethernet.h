// Ethernet II framing and ARP (RFC 826) for Ethernet/IPv4: what the tap link carries.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "harness/wire/bytes.h"
#include "harness/wire/ipv4.h"
#include "harness/wire/result.h"

namespace synack::wire {

struct MacAddr {
  std::array<std::uint8_t, 6> octets{};

  static constexpr MacAddr broadcast() { return MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  // "aa:bb:cc:dd:ee:ff" (either case); nullopt otherwise.
  static std::optional<MacAddr> parse(std::string_view text);
  std::string to_string() const;  // lowercase, colon-separated
  friend bool operator==(const MacAddr&, const MacAddr&) = default;
};

namespace ethertype {
inline constexpr std::uint16_t kIpv4 = 0x0800;
inline constexpr std::uint16_t kArp = 0x0806;
inline constexpr std::uint16_t kIpv6 = 0x86dd;
}  // namespace ethertype

inline constexpr std::size_t kEthernetHeader = 14;

struct EthernetHeader {
  MacAddr dst;
  MacAddr src;
  std::uint16_t ethertype = ethertype::kIpv4;
};

struct EthernetView {
  EthernetHeader header;
  ByteSpan payload;  // may include padding to the 60-byte minimum frame
};

Result<EthernetView> parse_ethernet(ByteSpan frame);
// Header + payload; no padding to the minimum frame size and no FCS (tap devices add neither).
Bytes emit_ethernet(const EthernetHeader& h, ByteSpan payload);

namespace arp_op {
inline constexpr std::uint16_t kRequest = 1;
inline constexpr std::uint16_t kReply = 2;
}  // namespace arp_op

inline constexpr std::size_t kArpEthernetIpv4Length = 28;

// ARP for Ethernet hardware and IPv4 protocol addresses: the only kind the tap link needs.
struct ArpPacket {
  std::uint16_t op = arp_op::kRequest;
  MacAddr sender_mac;
  Ipv4Addr sender_ip;
  MacAddr target_mac;
  Ipv4Addr target_ip;
};

// Rejects anything but htype 1 / ptype 0x0800 / hlen 6 / plen 4 (kUnsupportedArp) and buffers
// shorter than 28 bytes (kTruncated). Trailing bytes (frame padding) are ignored.
Result<ArpPacket> parse_arp(ByteSpan payload);
Bytes emit_arp(const ArpPacket& a);

}  // namespace synack::wire
