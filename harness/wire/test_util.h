// Helpers shared by the codec's tests (not part of the library).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "harness/wire/format.h"
#include "harness/wire/tcp.h"

namespace synack::wire {

// gtest prints options through these (found by ADL) instead of dumping their bytes.
template <class T>
requires std::is_constructible_v<TcpOption, T>
void PrintTo(const T& option, std::ostream* os) { *os << format_options({TcpOption(option)}); }

}  // namespace synack::wire

namespace synack::wire::testing {

inline Bytes from_hex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (char c : hex) {
    const int n = nibble(c);
    if (n < 0) continue;  // allow spaces for readability
    if (hi < 0) {
      hi = n;
    } else {
      out.push_back(static_cast<std::uint8_t>((hi << 4) | n));
      hi = -1;
    }
  }
  return out;
}

inline std::string to_hex(ByteSpan b) { return hex_string(b); }

// One input a parser must reject, with the error it must name.
struct ErrorCase {
  const char* name;
  Bytes packet;
  WireError code;
};

// Names the case in test listings instead of dumping its bytes.
inline void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

inline std::string error_case_name(const ::testing::TestParamInfo<ErrorCase>& param_info) {
  return param_info.param.name;
}

// The parser's result for GetParam(): rejected, with the expected code, an offset inside (or
// just past) the input, and a message.
template <class T>
void expect_rejected(const Result<T>& r, const ErrorCase& c) {
  ASSERT_FALSE(r) << c.name << " parsed";
  EXPECT_EQ(r.error().code, c.code) << r.error().message();
  EXPECT_LE(r.error().offset, c.packet.size());
  EXPECT_FALSE(r.error().message().empty());
}

// 10.0.0.2:1234 > 10.0.0.1:80, the template most tests start from and then change a field.
inline TcpPacket make_segment(std::uint8_t flags, std::uint32_t seq = 0, std::uint32_t ack = 0) {
  TcpPacket p;
  p.ip.src = Ipv4Addr::from_octets(10, 0, 0, 2);
  p.ip.dst = Ipv4Addr::from_octets(10, 0, 0, 1);
  p.tcp.src_port = 1234;
  p.tcp.dst_port = 80;
  p.tcp.seq = Seq(seq);
  p.tcp.ack = Seq(ack);
  p.tcp.flags = flags;
  p.tcp.window = 65535;
  return p;
}

}  // namespace synack::wire::testing
