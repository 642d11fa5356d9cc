// TapLink against the Linux kernel on the other side of a tap device, in a namespace of its own
// (label root: skipped with the reason when not root or without /dev/net/tun).
#include "harness/link/tap.h"

#include <arpa/inet.h>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/target/netns.h"
#include "harness/wire/icmp.h"

namespace synack::link {
namespace {

using target::NetNs;
using ::testing::HasSubstr;

const wire::MacAddr kHarnessMac = *wire::MacAddr::parse("02:53:59:4e:00:02");
const wire::MacAddr kStackMac = *wire::MacAddr::parse("02:53:59:4e:00:01");
constexpr wire::Ipv4Addr kStackIp = wire::Ipv4Addr::from_octets(192, 168, 0, 1);
constexpr wire::Ipv4Addr kHarnessIp = wire::Ipv4Addr::from_octets(192, 168, 0, 2);

// A namespace with tap synack0 up at 192.168.0.1/24, and no neighbour entry for the harness:
// the kernel has to ARP for it.
class TapLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = target::linux_target_unavailable(); !why.empty()) GTEST_SKIP() << why;
    auto ns = NetNs::create();
    ASSERT_TRUE(ns) << ns.error();
    ns_ = std::move(*ns);
    ASSERT_EQ(ns_->write_sysctl("net/ipv6/conf/default/disable_ipv6", "1"), "");
    {
      const NetNs::Enter in(*ns_);
      ASSERT_EQ(in.error(), "");
      auto l = TapLink::open(TapConfig{"synack0", kHarnessMac, kHarnessIp, std::nullopt});
      ASSERT_TRUE(l) << l.error();
      link_ = std::move(*l);
    }
    ASSERT_EQ(ns_->ip_batch({"link set synack0 address " + kStackMac.to_string(),
                             "addr add 192.168.0.1/24 dev synack0", "link set synack0 up"}),
              "");
  }

  // A UDP datagram from the kernel to the harness (so the kernel must resolve 192.168.0.2).
  void kernel_sends_udp() {
    const NetNs::Enter in(*ns_);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    to.sin_addr.s_addr = htonl(kHarnessIp.value);
    const char msg[] = "hello";
    EXPECT_EQ(::sendto(fd, msg, 5, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to), 5);
    ::close(fd);
  }

  std::unique_ptr<NetNs> ns_;
  std::unique_ptr<TapLink> link_;
};

TEST_F(TapLinkTest, AnswersArpRequestsForItsAddress) {
  kernel_sends_udp();
  // The kernel ARPs first; the link answers, and the datagram follows.
  auto got = link_->receive(TapLink::now_us() + 2'000'000);
  ASSERT_TRUE(got) << "no IPv4 packet after the ARP exchange";
  EXPECT_EQ(link_->counters().arp_replies, 1U);
  auto ip = wire::parse_ipv4(got->packet);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->header.dst, kHarnessIp);
  EXPECT_EQ(ip->header.protocol, 17);
  // The kernel took the reply: its neighbour entry holds the harness's MAC (RFC 826: the reply
  // carries our hardware address as the sender's).
  const auto r = target::run_command({"ip", "-n", ns_->name(), "neigh", "show", "192.168.0.2"});
  EXPECT_THAT(r.output, HasSubstr(kHarnessMac.to_string()));
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("FAILED")));
  EXPECT_EQ(link_->peer_mac(), kStackMac);
}

TEST_F(TapLinkTest, FrameRoundTripEchoRequestGetsAReply) {
  ASSERT_EQ(ns_->ip_batch({"neigh replace 192.168.0.2 lladdr " + kHarnessMac.to_string() +
                           " dev synack0 nud permanent"}),
            "");
  wire::IcmpPacket echo;
  echo.ip.src = kHarnessIp;
  echo.ip.dst = kStackIp;
  echo.icmp.type = 8;  // echo request
  echo.icmp.code = 0;
  echo.icmp.rest = 0x12340001;
  echo.icmp.body = {'s', 'y', 'n', 'a', 'c', 'k'};
  const std::int64_t sent = TapLink::now_us();
  ASSERT_EQ(link_->send(wire::emit(echo)), "");
  auto got = link_->receive(sent + 2'000'000);
  ASSERT_TRUE(got) << "no echo reply";
  auto reply = wire::parse_icmp_packet(got->packet);
  ASSERT_TRUE(reply) << reply.error().message();
  EXPECT_EQ(reply->icmp.type, 0);
  EXPECT_EQ(reply->icmp.rest, 0x12340001U);
  EXPECT_EQ(reply->icmp.body, echo.icmp.body);
  EXPECT_EQ(reply->ip.src, kStackIp);
  // Stamped on CLOCK_MONOTONIC, after the send and not in the future.
  EXPECT_GE(got->time_us, sent);
  EXPECT_LE(got->time_us, TapLink::now_us());
  EXPECT_EQ(link_->counters().arp_replies, 0U);  // static entry: no ARP needed
}

TEST_F(TapLinkTest, IgnoresIpv6Frames) {
  // IPv6 on, with its link-local address usable at once (no duplicate address detection).
  ASSERT_EQ(ns_->write_sysctl("net/ipv6/conf/synack0/accept_dad", "0"), "");
  ASSERT_EQ(ns_->write_sysctl("net/ipv6/conf/synack0/disable_ipv6", "0"), "");
  ASSERT_EQ(ns_->ip_batch({"addr add fe80::1/64 dev synack0 nodad"}), "");
  {
    // An IPv6 datagram to all-nodes: the kernel emits it without neighbour discovery.
    const NetNs::Enter in(*ns_);
    const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(9);
    ASSERT_EQ(::inet_pton(AF_INET6, "ff02::1", &to.sin6_addr), 1);
    to.sin6_scope_id = ::if_nametoindex("synack0");
    EXPECT_EQ(::sendto(fd, "x", 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to), 1)
        << std::strerror(errno);
    ::close(fd);
  }
  EXPECT_FALSE(link_->receive(TapLink::now_us() + 300'000)) << "an IPv6 frame was handed back";
  EXPECT_GE(link_->counters().ignored, 1U);
}

TEST_F(TapLinkTest, ReceiveWaitsUntilTheDeadline) {
  const std::int64_t start = TapLink::now_us();
  EXPECT_FALSE(link_->receive(start + 50'000));
  const std::int64_t waited = TapLink::now_us() - start;
  EXPECT_GE(waited, 50'000);
  EXPECT_LT(waited, 150'000);
}

TEST(TapLinkOpen, BadNameIsAnErrorNamingIt) {
  auto l = TapLink::open(TapConfig{"a-name-far-too-long-for-ifnamsiz", {}, {}, std::nullopt});
  ASSERT_FALSE(l);
  EXPECT_THAT(l.error(), HasSubstr("a-name-far-too-long-for-ifnamsiz"));
}

}  // namespace
}  // namespace synack::link
