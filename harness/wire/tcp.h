// TCP header (RFC 9293 section 3.1) and options as value types, and whole IPv4/TCP packets.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "harness/wire/bytes.h"
#include "harness/wire/ipv4.h"
#include "harness/wire/result.h"
#include "harness/wire/seq.h"

namespace synack::wire {

// Control bits, in wire order (RFC 9293 section 3.1; ECE and CWR from RFC 3168).
namespace tcp_flags {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
inline constexpr std::uint8_t kUrg = 0x20;
inline constexpr std::uint8_t kEce = 0x40;
inline constexpr std::uint8_t kCwr = 0x80;
}  // namespace tcp_flags

// Option kinds this codec decodes (IANA TCP option kind numbers).
namespace tcp_option_kind {
inline constexpr std::uint8_t kEol = 0;
inline constexpr std::uint8_t kNop = 1;
inline constexpr std::uint8_t kMss = 2;            // RFC 9293 3.2
inline constexpr std::uint8_t kWindowScale = 3;    // RFC 7323 2.2
inline constexpr std::uint8_t kSackPermitted = 4;  // RFC 2018 2
inline constexpr std::uint8_t kSack = 5;           // RFC 2018 3
inline constexpr std::uint8_t kTimestamps = 8;     // RFC 7323 3.2
}  // namespace tcp_option_kind

struct SackBlock {
  Seq left;   // first sequence number of the block
  Seq right;  // sequence number just after the block
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

struct OptEol {
  friend bool operator==(const OptEol&, const OptEol&) = default;
};
struct OptNop {
  friend bool operator==(const OptNop&, const OptNop&) = default;
};
struct OptMss {
  std::uint16_t mss = 0;
  friend bool operator==(const OptMss&, const OptMss&) = default;
};
struct OptWindowScale {
  std::uint8_t shift = 0;  // as sent; RFC 7323 2.3 caps the shift used at 14, not the field
  friend bool operator==(const OptWindowScale&, const OptWindowScale&) = default;
};
struct OptSackPermitted {
  friend bool operator==(const OptSackPermitted&, const OptSackPermitted&) = default;
};
struct OptSack {
  std::vector<SackBlock> blocks;  // zero blocks (length 2) parses, but is not well formed
  friend bool operator==(const OptSack&, const OptSack&) = default;
};
struct OptTimestamps {
  std::uint32_t val = 0;
  std::uint32_t ecr = 0;
  friend bool operator==(const OptTimestamps&, const OptTimestamps&) = default;
};
// Any option kept byte-exact: unknown kinds, and known kinds whose length is wrong (an MSS of
// length 3 is a malformed MSS, which a conformance harness must be able to send and to see).
struct OptRaw {
  std::uint8_t kind = 0;
  Bytes data;  // the bytes after kind and length
  friend bool operator==(const OptRaw&, const OptRaw&) = default;
};

using TcpOption = std::variant<OptEol, OptNop, OptMss, OptWindowScale, OptSackPermitted, OptSack,
                               OptTimestamps, OptRaw>;

std::uint8_t option_kind(const TcpOption& o);
// Bytes the option takes on the wire.
std::size_t option_wire_length(const TcpOption& o);
// Appends the option's wire form (kind, length, data). Throws std::length_error when an OptRaw
// or OptSack is too long for the one-byte length field.
void emit_option(const TcpOption& option, Bytes& out);

inline constexpr std::size_t kTcpMinHeader = 20;
inline constexpr std::size_t kTcpMaxOptions = 40;

struct TcpHeader {
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  Seq seq;
  Seq ack;
  std::uint8_t reserved = 0;  // the 4 bits between data offset and CWR, kept as seen
  std::uint8_t flags = 0;     // tcp_flags::*
  std::uint16_t window = 0;
  std::uint16_t urgent_pointer = 0;
  std::vector<TcpOption> options;  // in wire order
  // Option space after the last option (after EOL), kept byte-exact. On emit, the option space
  // is options + padding, then zero-filled up to a multiple of 4.
  Bytes option_padding;

  // As for Ipv4Header: filled by parsing, computed on emit when empty, emitted verbatim when set.
  std::optional<std::uint8_t> data_offset;  // in 32-bit words
  std::optional<std::uint16_t> checksum;

  bool has(std::uint8_t flag_bits) const { return (flags & flag_bits) == flag_bits; }
  // Option space in bytes as it will be emitted (a multiple of 4).
  std::size_t emitted_option_length() const;
  void recompute() {
    data_offset.reset();
    checksum.reset();
  }
  // First option of type T, if any.
  template <class T>
  const T* find() const {
    for (const auto& o : options) {
      if (const T* p = std::get_if<T>(&o)) return p;
    }
    return nullptr;
  }
};

// An IPv4 packet carrying a TCP segment.
struct TcpPacket {
  Ipv4Header ip;
  TcpHeader tcp;
  Bytes payload;

  // Set by parse_tcp_packet; ignored by emit (which honours ip.checksum and tcp.checksum).
  bool ip_checksum_ok = true;
  bool tcp_checksum_ok = true;

  // Sequence space the segment occupies: payload plus one each for SYN and FIN (RFC 9293 3.4).
  std::uint32_t segment_length() const;
  // Clears every wire-filled length and checksum in both headers.
  void recompute() {
    ip.recompute();
    tcp.recompute();
  }
};

// Parses the TCP options in `space` (the bytes between the fixed header and the data offset).
// `base` is the offset of `space` in the packet, for error positions.
Result<std::vector<TcpOption>> parse_tcp_options(ByteSpan space, std::size_t base, Bytes* padding);
// The same into `options`, which is cleared first and keeps its capacity. On an error it holds
// the options before the bad one.
std::optional<ParseError> parse_tcp_options(ByteSpan space, std::size_t base, Bytes* padding,
                                            std::vector<TcpOption>& options);

// Parses an IPv4 packet holding a whole TCP segment. After the IPv4 checks (see parse_ipv4):
// protocol is TCP, not a fragment, 20 bytes of TCP header, data offset in [5, segment length],
// then every option. Checksums that do not verify are flagged, not rejected.
Result<TcpPacket> parse_tcp_packet(ByteSpan packet);
// The same into `p`, every field overwritten and the buffers' capacity kept: for a caller that
// parses packet after packet. On an error `p` is left partly written.
std::optional<ParseError> parse_tcp_packet(ByteSpan packet, TcpPacket& p);

// Serialises the packet, computing every length and checksum left empty.
Bytes emit(const TcpPacket& p);
void emit(const TcpPacket& p, Bytes& out);

}  // namespace synack::wire
