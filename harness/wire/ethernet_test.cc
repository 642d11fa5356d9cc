#include "harness/wire/ethernet.h"

#include <gtest/gtest.h>

#include "harness/wire/test_util.h"

namespace synack::wire {
namespace {

using testing::from_hex;

TEST(MacAddr, ParsesAndPrints) {
  auto m = MacAddr::parse("02:AB:cd:00:00:ff");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to_string(), "02:ab:cd:00:00:ff");
  for (const char* bad : {"", "02:ab:cd:00:00", "02-ab-cd-00-00-ff", "02:ab:cd:00:00:fg",
                          "02:ab:cd:00:00:ff:", "2:ab:cd:00:00:ff0"}) {
    EXPECT_FALSE(MacAddr::parse(bad)) << bad;
  }
}

TEST(Ethernet, RoundTripsHeaderAndPayload) {
  const EthernetHeader h{MacAddr::broadcast(), MacAddr{{2, 0, 0, 0, 0, 1}}, ethertype::kArp};
  const Bytes payload = {1, 2, 3};
  const Bytes frame = emit_ethernet(h, payload);
  EXPECT_EQ(testing::to_hex(frame), "ffffffffffff0200000000010806010203");
  auto v = parse_ethernet(frame);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->header.dst, h.dst);
  EXPECT_EQ(v->header.src, h.src);
  EXPECT_EQ(v->header.ethertype, ethertype::kArp);
  EXPECT_EQ(Bytes(v->payload.begin(), v->payload.end()), payload);
}

TEST(Ethernet, RejectsAShortFrame) {
  auto v = parse_ethernet(Bytes(13));
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, WireError::kBadEthernet);
}

TEST(Arp, ParsesARequestAndEmitsItBack) {
  // who-has 10.0.0.1 tell 10.0.0.2, from 02:00:00:00:00:02, padded to the minimum frame.
  Bytes b = from_hex("0001 0800 06 04 0001 020000000002 0a000002 000000000000 0a000001");
  const Bytes exact = b;
  b.resize(46, 0);
  auto a = parse_arp(b);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->op, arp_op::kRequest);
  EXPECT_EQ(a->sender_mac.to_string(), "02:00:00:00:00:02");
  EXPECT_EQ(a->sender_ip.to_string(), "10.0.0.2");
  EXPECT_EQ(a->target_ip.to_string(), "10.0.0.1");
  EXPECT_EQ(emit_arp(*a), exact);
}

TEST(Arp, RejectsOtherHardwareOrProtocols) {
  auto ipv6 = parse_arp(from_hex("0001 86dd 06 10 0001"));
  ASSERT_FALSE(ipv6);
  EXPECT_EQ(ipv6.error().code, WireError::kUnsupportedArp);
  auto token_ring =
      parse_arp(from_hex("0006 0800 06 04 0001 0000000000000000000000000000000000000000"));
  ASSERT_FALSE(token_ring);
  EXPECT_EQ(token_ring.error().code, WireError::kUnsupportedArp);
}

TEST(Arp, RejectsTruncatedPackets) {
  auto a = parse_arp(from_hex("0001 0800 06 04"));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, WireError::kTruncated);
  auto b = parse_arp(from_hex("0001 0800 06 04 0002 0200000000"));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, WireError::kTruncated);
}

}  // namespace
}  // namespace synack::wire
