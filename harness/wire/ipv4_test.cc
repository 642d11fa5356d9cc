#include "harness/wire/ipv4.h"

#include <gtest/gtest.h>

#include "harness/wire/checksum.h"
#include "harness/wire/test_util.h"

namespace synack::wire {
namespace {

using testing::from_hex;

// 10.0.0.2 > 10.0.0.1, TCP, 40 bytes, id 0x1234, DF, TTL 64, no options, 20 payload bytes.
Bytes minimal_packet() {
  Ipv4Header h;
  h.id = 0x1234;
  h.flags = kIpFlagDontFragment;
  h.src = Ipv4Addr::from_octets(10, 0, 0, 2);
  h.dst = Ipv4Addr::from_octets(10, 0, 0, 1);
  Bytes out;
  emit_ipv4_header(h, 20, out);
  out.resize(40, 0xaa);
  return out;
}

TEST(Ipv4Addr, ParsesAndPrintsDottedQuads) {
  auto a = Ipv4Addr::parse("10.0.0.255");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 0x0a0000ffU);
  EXPECT_EQ(a->to_string(), "10.0.0.255");
}

TEST(Ipv4Addr, RejectsAnythingButFourOctets) {
  for (const char* bad : {"", "10.0.0", "10.0.0.1.2", "10.0.0.256", "10..0.1", "a.b.c.d",
                          "10.0.0.1 ", "-1.0.0.0", "1000.0.0.1", "10.0.0.0001"}) {
    EXPECT_FALSE(Ipv4Addr::parse(bad)) << bad;
  }
}

TEST(Ipv4Emit, FillsLengthsAndChecksum) {
  const Bytes b = minimal_packet();
  EXPECT_EQ(b[0], 0x45);  // version 4, IHL 5
  EXPECT_EQ(load_be16(b, 2), 40);
  EXPECT_EQ(internet_checksum(ByteSpan(b).first(20)), 0);
}

TEST(Ipv4Emit, PadsOptionsToAWordAndCountsThemInIhl) {
  Ipv4Header h;
  h.options = {0x94, 0x04, 0x00};  // 3 bytes: padded with one zero
  Bytes out;
  emit_ipv4_header(h, 0, out);
  ASSERT_EQ(out.size(), 24U);
  EXPECT_EQ(out[0], 0x46);
  EXPECT_EQ(out[23], 0x00);
}

TEST(Ipv4Emit, HonoursExplicitWrongValues) {
  Ipv4Header h;
  h.ihl = 7;
  h.total_length = 9;
  h.checksum = 0xbeef;
  Bytes out;
  emit_ipv4_header(h, 0, out);
  EXPECT_EQ(out[0], 0x47);
  EXPECT_EQ(load_be16(out, 2), 9);
  EXPECT_EQ(load_be16(out, 10), 0xbeef);
}

TEST(Ipv4Emit, RefusesMoreThan40BytesOfOptions) {
  Ipv4Header h;
  h.options.resize(41);
  Bytes out;
  EXPECT_THROW(emit_ipv4_header(h, 0, out), std::length_error);
}

TEST(Ipv4Parse, ReadsEveryField) {
  const Bytes b = minimal_packet();
  auto v = parse_ipv4(b);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(v->header.id, 0x1234);
  EXPECT_EQ(v->header.flags, kIpFlagDontFragment);
  EXPECT_EQ(v->header.ttl, 64);
  EXPECT_EQ(v->header.protocol, kIpProtoTcp);
  EXPECT_EQ(v->header.src.to_string(), "10.0.0.2");
  EXPECT_EQ(v->header.dst.to_string(), "10.0.0.1");
  EXPECT_EQ(v->header_length, 20U);
  EXPECT_EQ(v->payload.size(), 20U);
  EXPECT_TRUE(v->checksum_ok);
  EXPECT_EQ(*v->header.total_length, 40);
}

TEST(Ipv4Parse, StopsAtTotalLengthIgnoringLinkPadding) {
  Bytes b = minimal_packet();
  b.insert(b.end(), 6, 0);  // Ethernet pads short frames
  auto v = parse_ipv4(b);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->payload.size(), 20U);
}

TEST(Ipv4Parse, FlagsABadChecksumWithoutRejecting) {
  Bytes b = minimal_packet();
  b[10] ^= 0xff;
  auto v = parse_ipv4(b);
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->checksum_ok);
}

TEST(Ipv4Parse, KeepsOptionsByteExact) {
  Ipv4Header h;
  h.options = {0x01, 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x00};
  Bytes out;
  emit_ipv4_header(h, 0, out);
  auto v = parse_ipv4(out);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->header.options, h.options);
  EXPECT_EQ(*v->header.ihl, 7);
}

using testing::ErrorCase;

class Ipv4ParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(Ipv4ParseError, RejectsWithTheRightCode) {
  testing::expect_rejected(parse_ipv4(GetParam().packet), GetParam());
}

Bytes prefix(Bytes b, std::size_t n) {
  b.resize(n);
  return b;
}

Bytes with(Bytes b, std::size_t at, std::uint8_t value) {
  b[at] = value;
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    EveryCheck, Ipv4ParseError,
    ::testing::Values(
        ErrorCase{"empty", {}, WireError::kTruncated},
        ErrorCase{"nineteen_bytes", prefix(minimal_packet(), 19), WireError::kTruncated},
        ErrorCase{"version_6", with(minimal_packet(), 0, 0x65), WireError::kBadVersion},
        ErrorCase{"ihl_4", with(minimal_packet(), 0, 0x44), WireError::kBadIhl},
        ErrorCase{"ihl_0", with(minimal_packet(), 0, 0x40), WireError::kBadIhl},
        ErrorCase{"ihl_beyond_buffer",
                  Bytes(from_hex("4f00002c00000000400600000a0000020a000001 0000000000000000")),
                  WireError::kTruncated},
        ErrorCase{"total_length_below_header", with(with(minimal_packet(), 2, 0), 3, 19),
                  WireError::kBadTotalLength},
        ErrorCase{"total_length_beyond_buffer", with(minimal_packet(), 3, 41),
                  WireError::kTruncated}),
    testing::error_case_name);

}  // namespace
}  // namespace synack::wire
