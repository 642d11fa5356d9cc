#include "harness/wire/icmp.h"

#include <gtest/gtest.h>

#include "harness/wire/checksum.h"
#include "harness/wire/format.h"
#include "harness/wire/test_util.h"

namespace synack::wire {
namespace {

using testing::from_hex;
using testing::to_hex;

// 192.168.0.2 tells 192.168.0.1 that its 1500-byte DF datagram 192.168.0.1.8080 >
// 192.168.0.2.40000 seq 1001 needs fragmenting for a next-hop MTU of 1200 (RFC 1191).
IcmpPacket frag_needed() {
  Ipv4Header original;
  original.flags = kIpFlagDontFragment;
  original.protocol = kIpProtoTcp;
  original.src = Ipv4Addr::from_octets(192, 168, 0, 1);
  original.dst = Ipv4Addr::from_octets(192, 168, 0, 2);
  TcpPacket seg;
  seg.tcp.src_port = 8080;
  seg.tcp.dst_port = 40000;
  seg.tcp.seq = Seq(1001);
  const Bytes tcp = emit(seg);
  IcmpPacket p;
  p.ip.flags = kIpFlagDontFragment;
  p.ip.src = Ipv4Addr::from_octets(192, 168, 0, 2);
  p.ip.dst = Ipv4Addr::from_octets(192, 168, 0, 1);
  p.icmp.type = icmp_type::kDestinationUnreachable;
  p.icmp.code = icmp_unreachable::kFragNeeded;
  p.icmp.rest = 1200;
  p.icmp.body = icmp_quote(original, 1480, ByteSpan(tcp).subspan(kIpv4MinHeader));
  return p;
}

TEST(IcmpEmit, MatchesScapysBytes) {
  // Scapy: IP(src="192.168.0.2", dst="192.168.0.1", flags="DF", id=0) / ICMP(type=3, code=4,
  // nexthopmtu=1200) / (the quoted IP header with len=1500 + 8 bytes of TCP(8080 > 40000,
  // seq 1001)).
  EXPECT_EQ(to_hex(emit(frag_needed())),
            "45000038000040004001b971c0a80002c0a8000103043892000004b0"
            "450005dc000040004006b3c8c0a80001c0a800021f909c40000003e9");
}

TEST(IcmpEmit, ChecksumCoversTheWholeMessage) {
  const Bytes b = emit(frag_needed());
  EXPECT_EQ(internet_checksum(ByteSpan(b).subspan(20)), 0);
  EXPECT_EQ(internet_checksum(ByteSpan(b).first(20)), 0);
  IcmpPacket bad = frag_needed();
  bad.icmp.checksum = 0x1234;
  const Bytes wrong = emit(bad);
  EXPECT_EQ(load_be16(wrong, 22), 0x1234);
}

TEST(IcmpEmit, QuotesAtMostEightBytesOfTheTransportHeader) {
  Ipv4Header h;
  h.src = Ipv4Addr::from_octets(10, 0, 0, 1);
  h.options = {0x01, 0x01, 0x01, 0x00};  // the quoted header keeps its options
  const Bytes body = icmp_quote(h, 100, from_hex("0102030405060708090a0b"));
  ASSERT_EQ(body.size(), 24U + 8U);
  EXPECT_EQ(body[0], 0x46);
  EXPECT_EQ(load_be16(body, 2), 124);
  EXPECT_EQ(to_hex(ByteSpan(body).subspan(24)), "0102030405060708");
}

TEST(IcmpParse, ReadsBackWhatWasEmitted) {
  const IcmpPacket want = frag_needed();
  auto got = parse_icmp_packet(emit(want));
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(got->icmp.type, 3);
  EXPECT_EQ(got->icmp.code, 4);
  EXPECT_EQ(got->icmp.rest, 1200U);
  EXPECT_EQ(got->icmp.body, want.icmp.body);
  EXPECT_TRUE(got->icmp_checksum_ok);
  EXPECT_TRUE(got->ip_checksum_ok);
  EXPECT_EQ(got->ip.src, want.ip.src);
}

TEST(IcmpParse, FlagsABadChecksum) {
  IcmpPacket p = frag_needed();
  p.icmp.checksum = 0;
  auto got = parse_icmp_packet(emit(p));
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->icmp_checksum_ok);
  EXPECT_NE(format_ipv4(emit(p)).find("[bad icmp cksum 0x0000]"), std::string::npos);
}

TEST(IcmpParse, RejectsOtherProtocolsFragmentsAndShortHeaders) {
  TcpPacket seg;
  auto tcp = parse_icmp_packet(emit(seg));
  ASSERT_FALSE(tcp);
  EXPECT_EQ(tcp.error().code, WireError::kNotIcmp);
  IcmpPacket frag = frag_needed();
  frag.ip.fragment_offset = 3;
  auto f = parse_icmp_packet(emit(frag));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, WireError::kFragmented);
  Bytes shortened = emit(frag_needed());
  shortened.resize(24);
  shortened[3] = 24;  // total length
  auto s = parse_icmp_packet(shortened);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, WireError::kTruncated);
}

TEST(IcmpNames, RoundTripAndStayPerType) {
  EXPECT_EQ(icmp_type_by_name("unreachable"), 3);
  EXPECT_EQ(icmp_type_by_name("time_exceeded"), 11);
  EXPECT_EQ(icmp_code_by_name(3, "port_unreachable"), 3);
  EXPECT_EQ(icmp_code_by_name(3, "frag_needed"), 4);
  EXPECT_EQ(icmp_code_by_name(11, "ttl_exceeded"), 0);
  EXPECT_FALSE(icmp_code_by_name(11, "port_unreachable"));
  EXPECT_FALSE(icmp_type_by_name("echo"));
  EXPECT_EQ(icmp_code_name(3, 13), "packet_filtered");
  EXPECT_EQ(icmp_code_name(4, 0), "0");
  EXPECT_EQ(icmp_type_name(42), "42");
  EXPECT_EQ(icmp_code_names(11), "ttl_exceeded, frag_reassembly_time_exceeded");
}

TEST(IcmpFormat, ShowsTypeCodeMtuAndTheQuotedSegment) {
  EXPECT_EQ(format_ipv4(emit(frag_needed())),
            "192.168.0.2 > 192.168.0.1: ICMP unreachable frag_needed mtu 1200, quoting "
            "192.168.0.1.8080 > 192.168.0.2.40000 seq 1001, length 36");
  IcmpPacket q;
  q.icmp.type = icmp_type::kSourceQuench;
  q.ip.src = Ipv4Addr::from_octets(10, 0, 0, 1);
  q.ip.dst = Ipv4Addr::from_octets(10, 0, 0, 2);
  EXPECT_EQ(format_ipv4(emit(q)), "10.0.0.1 > 10.0.0.2: ICMP source_quench 0, length 8");
}

}  // namespace
}  // namespace synack::wire
