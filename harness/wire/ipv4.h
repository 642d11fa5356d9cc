// IPv4 header (RFC 791) as a value type, with its options kept byte-exact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "harness/wire/bytes.h"
#include "harness/wire/result.h"

namespace synack::wire {

struct Ipv4Addr {
  std::uint32_t value = 0;  // host order: 10.0.0.1 is 0x0a000001

  static constexpr Ipv4Addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                        std::uint8_t d) {
    return Ipv4Addr{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
                    d};
  }
  // Dotted quad; nullopt unless exactly four decimal octets 0-255.
  static std::optional<Ipv4Addr> parse(std::string_view text);
  std::string to_string() const;
  friend constexpr bool operator==(Ipv4Addr, Ipv4Addr) = default;
};

inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpFlagReserved = 0x4;
inline constexpr std::uint8_t kIpFlagDontFragment = 0x2;
inline constexpr std::uint8_t kIpFlagMoreFragments = 0x1;
inline constexpr std::size_t kIpv4MinHeader = 20;
inline constexpr std::size_t kIpv4MaxHeader = 60;

struct Ipv4Header {
  std::uint8_t tos = 0;  // DSCP + ECN
  std::uint16_t id = 0;
  std::uint8_t flags = 0;             // 3 bits: kIpFlag*
  std::uint16_t fragment_offset = 0;  // in 8-byte units, 13 bits
  std::uint8_t ttl = 64;
  std::uint8_t protocol = kIpProtoTcp;
  Ipv4Addr src;
  Ipv4Addr dst;
  Bytes options;  // raw option bytes; padded with zeros (EOL) to a multiple of 4 on emit

  // Parsing fills these with what was on the wire; the builder computes any left empty. Setting
  // one by hand emits that value verbatim: how tests and fuzzers make a deliberately bad packet.
  std::optional<std::uint8_t> ihl;  // header length in 32-bit words
  std::optional<std::uint16_t> total_length;
  std::optional<std::uint16_t> checksum;

  // Header length in bytes as it will be emitted (options padded to 4).
  std::size_t emitted_header_length() const {
    return kIpv4MinHeader + (options.size() + 3) / 4 * 4;
  }
  // Clears the wire-filled fields so the builder recomputes them.
  void recompute() {
    ihl.reset();
    total_length.reset();
    checksum.reset();
  }
};

// An IPv4 packet split at the header. The payload is a view into the parsed buffer and stops at
// the total length: Ethernet padding after it is not part of the packet.
struct Ipv4View {
  Ipv4Header header;
  ByteSpan payload;
  std::size_t header_length = 0;  // bytes
  bool checksum_ok = true;
};

// Checks, in order: buffer holds 20 bytes, version 4, IHL >= 5, buffer holds IHL*4 bytes,
// total length >= IHL*4, buffer holds total length.
Result<Ipv4View> parse_ipv4(ByteSpan packet);

// Appends the header for a payload of `payload_length` bytes to `out`.
void emit_ipv4_header(const Ipv4Header& h, std::size_t payload_length, Bytes& out);
// The same header written into `w`, which is h.emitted_header_length() bytes long (so that a
// packet can be built in one buffer, header last).
void write_ipv4_header(const Ipv4Header& h, std::size_t payload_length, std::span<std::uint8_t> w);

}  // namespace synack::wire
