// The stack's own minimal IPv4/TCP codec (independent of harness/wire on purpose).
//
// The state machine only ever sees a validated Segment. Parsing rejects anything it cannot
// represent exactly (truncation, bad lengths, option lengths below 2 or past the header) and
// reports a checksum that does not verify separately, so the stack can drop and count it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "stack/wire/ipv4.h"
#include "stack/wire/seq.h"

namespace synack::stack {

namespace tcp_flag {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcp_flag

struct SackBlock {
  SeqNum left;
  SeqNum right;
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

struct Timestamps {
  std::uint32_t val = 0;
  std::uint32_t ecr = 0;
  friend bool operator==(const Timestamps&, const Timestamps&) = default;
};

// The options the stack understands. Unknown kinds are skipped (RFC 9293 3.1, MUST-6: a TCP
// must ignore options it does not implement); a known kind with the wrong length is ignored too.
struct TcpOptions {
  std::optional<std::uint16_t> mss;      // RFC 9293 3.7.1 / RFC 6691
  std::optional<std::uint8_t> wscale;    // RFC 7323 2 (as sent; the caller caps at 14)
  bool sack_permitted = false;           // RFC 2018
  std::optional<Timestamps> timestamps;  // RFC 7323 3
  std::vector<SackBlock> sack;           // RFC 2018, at most 4 blocks
  friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};

struct Segment {
  std::uint32_t src_addr = 0;  // IPv4, host byte order
  std::uint32_t dst_addr = 0;
  std::uint8_t tos = 0;            // IPv4 Differentiated Services field and ECN (RFC 2474)
  std::uint8_t ttl = kDefaultTtl;  // IPv4 time to live (RFC 9293 3.9.2, MUST-49)
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  SeqNum seq;
  SeqNum ack;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // as on the wire, unscaled
  std::uint16_t urgent_pointer = 0;
  TcpOptions options;
  std::vector<std::uint8_t> payload;

  bool has(std::uint8_t f) const { return (flags & f) != 0; }
  // SEG.LEN: payload plus one each for SYN and FIN (RFC 9293 3.4).
  std::uint32_t seg_len() const {
    return static_cast<std::uint32_t>(payload.size()) + (has(tcp_flag::kSyn) ? 1U : 0U) +
           (has(tcp_flag::kFin) ? 1U : 0U);
  }
};

enum class ParseStatus {
  kOk,
  kMalformed,    // truncated, bad IHL / total length / data offset / option length, fragment
  kNotTcp,       // IPv4 but another protocol
  kBadChecksum,  // IPv4 header or TCP checksum does not verify
};

// Parses an IPv4 packet carrying one TCP segment into `out` (overwritten). IPv4 options are
// skipped (MUST-50); the pseudo-header of the checksum uses the packet's addresses.
ParseStatus parse_segment(std::span<const std::uint8_t> ip_packet, Segment& out);
// The same for a packet whose IPv4 header parse_ipv4 has already read (protocol 6).
ParseStatus parse_segment(const Ipv4Packet& ip, Segment& out);

// Serialises `s` as an IPv4 packet (no IP options, DF set, s.tos and s.ttl, id 0) with correct
// lengths and checksums. Options are written in Linux's order: MSS, SACK-permitted, timestamps,
// window scale, SACK blocks, padded with NOPs so that each multi-byte option is 32-bit aligned as
// Linux does (e.g. a SYN: mss, sackOK, TS, nop, wscale; an ACK: nop, nop, TS).
std::vector<std::uint8_t> emit_segment(const Segment& s);
// The same, with the payload given apart (s.payload is ignored): no copy into the Segment.
std::vector<std::uint8_t> emit_segment(const Segment& s, std::span<const std::uint8_t> payload);
// The same into `out`, whose previous contents are replaced (its buffer is reused when it has
// room).
void emit_segment(const Segment& s, std::span<const std::uint8_t> payload,
                  std::vector<std::uint8_t>& out);

}  // namespace synack::stack
