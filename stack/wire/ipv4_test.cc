// The stack's IPv4 header parser (options, source routes, address classes) and ICMP parser.
#include "stack/wire/ipv4.h"

#include <vector>

#include <gtest/gtest.h>

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"
#include "stack/wire/icmp.h"
#include "stack/wire/segment.h"

namespace synack::stack {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t kA = 0xc0000201;  // 192.0.2.1
constexpr std::uint32_t kB = 0xc6336402;  // 198.51.100.2

Bytes tcp_packet() {
  Segment s;
  s.src_addr = kA;
  s.dst_addr = kB;
  s.src_port = 40000;
  s.dst_port = 80;
  s.seq = SeqNum(0x01020304);
  s.flags = tcp_flag::kSyn;
  s.tos = 0x2a;
  s.ttl = 17;
  return emit_segment(s);
}

void fix_ip_checksum(Bytes& b) {
  const std::size_t ihl = std::size_t{b[0] & 0x0fU} * 4;
  wire::set16(b, 10, 0);
  wire::set16(b, 10, internet_checksum(std::span(b).first(ihl)));
}

// `b` with IPv4 options (a multiple of 4 bytes) after the fixed header.
Bytes with_options(Bytes b, const Bytes& options) {
  b.insert(b.begin() + 20, options.begin(), options.end());
  b[0] = static_cast<std::uint8_t>(0x40 | ((20 + options.size()) / 4));
  wire::set16(b, 2, static_cast<std::uint16_t>(b.size()));
  fix_ip_checksum(b);
  return b;
}

Ipv4Status parse(const Bytes& b, Ipv4Packet& out) { return parse_ipv4(b, out); }

TEST(Ipv4Parse, ReadsTheHeaderFields) {
  Ipv4Packet ip;
  const Bytes b = tcp_packet();
  ASSERT_EQ(parse(b, ip), Ipv4Status::kOk);
  EXPECT_EQ(ip.src_addr, kA);
  EXPECT_EQ(ip.dst_addr, kB);
  EXPECT_EQ(ip.protocol, ip_proto::kTcp);
  EXPECT_EQ(ip.tos, 0x2a);
  EXPECT_EQ(ip.ttl, 17);
  EXPECT_TRUE(ip.checksum_ok);
  EXPECT_FALSE(ip.fragment);
  EXPECT_FALSE(ip.source_route);
  EXPECT_EQ(ip.header.size(), 20U);
  EXPECT_EQ(ip.payload.size(), b.size() - 20);
}

TEST(Ipv4Parse, PayloadStartsAfterTheOptions) {
  Ipv4Packet ip;
  const Bytes b = with_options(tcp_packet(), {7, 7, 4, 0, 0, 0, 0, 1});  // record route, NOP
  ASSERT_EQ(parse(b, ip), Ipv4Status::kOk);
  EXPECT_EQ(ip.header.size(), 28U);
  EXPECT_EQ(ip.payload.data(), b.data() + 28);
  EXPECT_FALSE(ip.source_route);
  Segment s;
  ASSERT_EQ(parse_segment(b, s), ParseStatus::kOk);  // MUST-50
  EXPECT_EQ(s.seq, SeqNum(0x01020304));
}

TEST(Ipv4Parse, FindsLooseAndStrictSourceRoutes) {
  for (const int type : {131, 137}) {
    Ipv4Packet ip;
    ASSERT_EQ(
        parse(with_options(tcp_packet(), {1, static_cast<std::uint8_t>(type), 7, 4, 1, 2, 3, 4}),
              ip),
        Ipv4Status::kOk);
    EXPECT_TRUE(ip.source_route) << type;
  }
}

TEST(Ipv4Parse, IgnoresWhatFollowsEndOfOptionList) {
  Ipv4Packet ip;
  ASSERT_EQ(parse(with_options(tcp_packet(), {0, 131, 99, 1}), ip), Ipv4Status::kOk);
  EXPECT_FALSE(ip.source_route);
}

TEST(Ipv4Parse, RejectsOptionLengthsBelow2OrPastTheHeader) {
  Ipv4Packet ip;
  EXPECT_EQ(parse(with_options(tcp_packet(), {7, 0, 0, 0}), ip), Ipv4Status::kMalformed);
  EXPECT_EQ(parse(with_options(tcp_packet(), {7, 1, 0, 0}), ip), Ipv4Status::kMalformed);
  EXPECT_EQ(parse(with_options(tcp_packet(), {1, 1, 7, 3}), ip), Ipv4Status::kMalformed);
  EXPECT_EQ(parse(with_options(tcp_packet(), {1, 1, 1, 7}), ip), Ipv4Status::kMalformed);
}

TEST(Ipv4Parse, ReportsFragmentsAndBadChecksums) {
  Ipv4Packet ip;
  Bytes b = tcp_packet();
  b[6] = 0x20;  // more fragments
  fix_ip_checksum(b);
  ASSERT_EQ(parse(b, ip), Ipv4Status::kOk);
  EXPECT_TRUE(ip.fragment);
  b = tcp_packet();
  b[7] = 0x01;  // offset 8
  fix_ip_checksum(b);
  ASSERT_EQ(parse(b, ip), Ipv4Status::kOk);
  EXPECT_TRUE(ip.fragment);
  b = tcp_packet();
  b[8] ^= 0x01;
  ASSERT_EQ(parse(b, ip), Ipv4Status::kOk);
  EXPECT_FALSE(ip.checksum_ok);
}

TEST(Ipv4Parse, LeavesLinkPaddingOutOfThePayload) {
  Ipv4Packet ip;
  Bytes b = tcp_packet();
  const std::size_t size = b.size();
  b.insert(b.end(), {0, 0, 0, 0});
  ASSERT_EQ(parse(b, ip), Ipv4Status::kOk);
  EXPECT_EQ(ip.payload.size(), size - 20);
}

TEST(Ipv4Address, Classes) {
  EXPECT_TRUE(is_limited_broadcast(0xffffffff));
  EXPECT_TRUE(is_multicast(0xe0000000));
  EXPECT_TRUE(is_multicast(0xefffffff));
  EXPECT_FALSE(is_multicast(0xdfffffff));
  EXPECT_FALSE(is_multicast(0xf0000000));  // class E is not multicast
  EXPECT_TRUE(is_this_network(0));
  EXPECT_TRUE(is_this_network(0x00ffffff));
  EXPECT_FALSE(is_this_network(0x01000000));
  EXPECT_FALSE(is_broadcast_or_multicast(kA));
}

TEST(SegmentEmit, TosAndTtlRoundTrip) {
  Segment s;
  ASSERT_EQ(parse_segment(tcp_packet(), s), ParseStatus::kOk);
  EXPECT_EQ(s.tos, 0x2a);
  EXPECT_EQ(s.ttl, 17);
  EXPECT_EQ(Segment{}.ttl, kDefaultTtl);
}

// --- ICMP ----------------------------------------------------------------------------------

Bytes icmp(std::uint8_t type, std::uint8_t code, const Bytes& body, std::uint32_t rest = 0) {
  Bytes m = {type, code, 0, 0, 0, 0, 0, 0};
  wire::set32(m, 4, rest);
  m.insert(m.end(), body.begin(), body.end());
  wire::set16(m, 2, internet_checksum(m));
  return m;
}

Bytes quote(const Bytes& packet, std::size_t transport_octets = 8) {
  const std::size_t ihl = std::size_t{packet[0] & 0x0fU} * 4;
  return {packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(ihl + transport_octets)};
}

TEST(IcmpParse, ReadsAnErrorAndItsQuote) {
  IcmpMessage m;
  ASSERT_EQ(parse_icmp(icmp(3, 4, quote(tcp_packet()), 1400), m), IcmpStatus::kOk);
  EXPECT_EQ(m.type, icmp_type::kDestinationUnreachable);
  EXPECT_EQ(m.code, icmp_unreachable::kFragmentationNeeded);
  EXPECT_EQ(m.rest, 1400U);
  EXPECT_TRUE(m.is_error);
  EXPECT_EQ(m.quoted_src, kA);
  EXPECT_EQ(m.quoted_dst, kB);
  EXPECT_EQ(m.quoted_protocol, ip_proto::kTcp);
  EXPECT_TRUE(m.quoted_first_fragment);
  EXPECT_EQ(m.quoted_src_port, 40000);
  EXPECT_EQ(m.quoted_dst_port, 80);
  EXPECT_EQ(m.quoted_seq, 0x01020304U);
}

TEST(IcmpParse, QuoteWithIpOptionsAndMoreThan8Octets) {
  IcmpMessage m;
  const Bytes original = with_options(tcp_packet(), {1, 1, 1, 1});
  ASSERT_EQ(parse_icmp(icmp(11, 0, quote(original, 20)), m), IcmpStatus::kOk);
  EXPECT_EQ(m.quoted_seq, 0x01020304U);
  EXPECT_EQ(m.quoted_dst_port, 80);
}

TEST(IcmpParse, NonErrorTypesHaveNoQuote) {
  IcmpMessage m;
  ASSERT_EQ(parse_icmp(icmp(8, 0, {'p', 'i', 'n', 'g'}), m), IcmpStatus::kOk);
  EXPECT_FALSE(m.is_error);
  ASSERT_EQ(parse_icmp(icmp(0, 0, {}), m), IcmpStatus::kOk);
  EXPECT_FALSE(m.is_error);
}

TEST(IcmpParse, RejectsShortMessagesAndQuotes) {
  IcmpMessage m;
  EXPECT_EQ(parse_icmp(Bytes{3, 1, 0, 0, 0, 0, 0}, m), IcmpStatus::kMalformed);
  EXPECT_EQ(parse_icmp(icmp(3, 1, {}), m), IcmpStatus::kMalformed);
  EXPECT_EQ(parse_icmp(icmp(3, 1, quote(tcp_packet(), 7)), m), IcmpStatus::kMalformed);
  Bytes bad_version = quote(tcp_packet());
  bad_version[0] = 0x55;
  EXPECT_EQ(parse_icmp(icmp(12, 0, bad_version), m), IcmpStatus::kMalformed);
  Bytes long_ihl = quote(tcp_packet());
  long_ihl[0] = 0x46;  // 24-byte header: only 4 octets of TCP left
  EXPECT_EQ(parse_icmp(icmp(12, 0, long_ihl), m), IcmpStatus::kMalformed);
}

TEST(IcmpParse, ReportsABadChecksum) {
  IcmpMessage m;
  Bytes b = icmp(3, 3, quote(tcp_packet()));
  b[4] ^= 0x01;
  EXPECT_EQ(parse_icmp(b, m), IcmpStatus::kBadChecksum);
}

TEST(IcmpParse, FlagsAQuotedLaterFragment) {
  IcmpMessage m;
  Bytes q = quote(tcp_packet());
  q[7] = 0x02;
  ASSERT_EQ(parse_icmp(icmp(3, 3, q), m), IcmpStatus::kOk);
  EXPECT_FALSE(m.quoted_first_fragment);
}

}  // namespace
}  // namespace synack::stack
