#include "harness/wire/format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/wire/test_util.h"

namespace synack::wire {
namespace {

namespace f = tcp_flags;
using ::testing::HasSubstr;
using testing::make_segment;

TEST(FormatTcp, RendersASynAckLikeTcpdump) {
  TcpPacket p = make_segment(f::kSyn | f::kAck, 0, 1);
  p.tcp.options = {OptMss{1460}, OptSackPermitted{}, OptTimestamps{1, 0}, OptNop{},
                   OptWindowScale{7}};
  EXPECT_EQ(format_tcp(p),
            "10.0.0.2.1234 > 10.0.0.1.80: Flags [S.], seq 0, ack 1, win 65535, options [mss "
            "1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0");
}

TEST(FormatTcp, ShowsTheSequenceRangeOfData) {
  TcpPacket p = make_segment(f::kPsh | f::kAck, 0xfffffffeU, 5);
  p.payload = {1, 2, 3, 4};
  EXPECT_EQ(format_tcp(p),
            "10.0.0.2.1234 > 10.0.0.1.80: Flags [P.], seq 4294967294:2, ack 5, win 65535, "
            "length 4");
}

TEST(FormatTcp, OmitsAckWithoutTheAckFlagAndShowsUrg) {
  TcpPacket p = make_segment(f::kUrg, 9, 77);
  p.tcp.urgent_pointer = 3;
  EXPECT_EQ(format_tcp(p),
            "10.0.0.2.1234 > 10.0.0.1.80: Flags [U], seq 9, win 65535, urg 3, length 0");
}

TEST(FormatFlags, UsesTcpdumpLettersInTcpdumpOrder) {
  EXPECT_EQ(format_flags(0), "none");
  EXPECT_EQ(format_flags(f::kFin | f::kPsh | f::kAck), "FP.");
  EXPECT_EQ(format_flags(f::kRst | f::kAck), "R.");
  EXPECT_EQ(format_flags(0xff), "FSRP.UEW");
}

TEST(FormatOptions, RendersSackBlocksAndRawOptions) {
  EXPECT_EQ(format_options({OptSack{{{Seq(1), Seq(2)}, {Seq(3), Seq(4)}}}}), "sack 2 {1:2}{3:4}");
  EXPECT_EQ(format_options({OptRaw{253, {0xab, 0x01}}, OptRaw{254, {}}}),
            "unknown-253 0xab01,unknown-254");
  EXPECT_EQ(format_options({OptRaw{2, {0x05}}, OptEol{}}), "mss [bad length 3] 0x05,eol");
}

TEST(FormatTcp, FlagsBadChecksumsWithTheCorrectValue) {
  TcpPacket p = make_segment(f::kAck);
  const std::uint16_t good = correct_tcp_checksum(p);
  p.tcp.checksum = static_cast<std::uint16_t>(good ^ 1);
  p.ip.checksum = 0;
  const Bytes b = emit(p);
  const std::string line = format_ipv4(b);
  EXPECT_THAT(line, HasSubstr("[bad ip cksum 0x0000]"));
  char expect[64];
  std::snprintf(expect, sizeof expect, "[bad tcp cksum 0x%04x (correct 0x%04x)]", good ^ 1, good);
  EXPECT_THAT(line, HasSubstr(expect));
}

TEST(FormatIpv4, DescribesOtherProtocolsFragmentsAndMalformedPackets) {
  TcpPacket udp = make_segment(0);
  udp.ip.protocol = 17;
  EXPECT_EQ(format_ipv4(emit(udp)), "10.0.0.2 > 10.0.0.1: ip-proto-17, length 20");

  TcpPacket frag = make_segment(0);
  frag.ip.flags = kIpFlagMoreFragments;
  frag.ip.id = 7;
  EXPECT_EQ(format_ipv4(emit(frag)),
            "10.0.0.2 > 10.0.0.1: fragment id 7 offset 0 (more), length 20");

  TcpPacket bad = make_segment(f::kAck);
  bad.tcp.data_offset = 3;
  EXPECT_EQ(format_ipv4(emit(bad)),
            "10.0.0.2 > 10.0.0.1: [malformed: bad TCP data offset at byte 32: data offset 3 "
            "words, segment is 20 bytes]");
  EXPECT_EQ(format_ipv4(Bytes{0x45}),
            "[malformed: truncated at byte 1: IPv4 header needs 20 bytes, have 1]");
}

TEST(FormatFrame, DecodesEthernetArpAndCookedCaptures) {
  const MacAddr a{{2, 0, 0, 0, 0, 1}};
  const MacAddr b{{2, 0, 0, 0, 0, 2}};
  const ArpPacket req{arp_op::kRequest, a, Ipv4Addr::from_octets(10, 0, 0, 2), MacAddr{},
                      Ipv4Addr::from_octets(10, 0, 0, 1)};
  EXPECT_EQ(format_frame(LinkType::kEthernet,
                         emit_ethernet({MacAddr::broadcast(), a, ethertype::kArp}, emit_arp(req))),
            "ARP, Request who-has 10.0.0.1 tell 10.0.0.2, length 28");
  const ArpPacket reply{arp_op::kReply, b, Ipv4Addr::from_octets(10, 0, 0, 1), a,
                        Ipv4Addr::from_octets(10, 0, 0, 2)};
  EXPECT_EQ(format_arp(reply), "ARP, Reply 10.0.0.1 is-at 02:00:00:00:00:02, length 28");

  const Bytes ip = emit(make_segment(f::kRst, 5));
  const std::string expect = format_ipv4(ip);
  EXPECT_EQ(format_frame(LinkType::kEthernet, emit_ethernet({b, a, ethertype::kIpv4}, ip)), expect);
  Bytes sll(16, 0);
  sll[14] = 0x08;
  sll.insert(sll.end(), ip.begin(), ip.end());
  EXPECT_EQ(format_frame(LinkType::kLinuxSll, sll), expect);
  Bytes sll2(20, 0);
  sll2[0] = 0x08;
  sll2.insert(sll2.end(), ip.begin(), ip.end());
  EXPECT_EQ(format_frame(LinkType::kLinuxSll2, sll2), expect);
  Bytes null_link = {2, 0, 0, 0};
  null_link.insert(null_link.end(), ip.begin(), ip.end());
  EXPECT_EQ(format_frame(LinkType::kNull, null_link), expect);

  EXPECT_EQ(format_frame(LinkType::kEthernet, emit_ethernet({b, a, ethertype::kIpv6}, Bytes(40))),
            "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 0x86dd, length 54");
  EXPECT_THAT(format_frame(LinkType::kEthernet, Bytes(5)), HasSubstr("[malformed: Ethernet"));
}

}  // namespace
}  // namespace synack::wire
