// TapServer (synack serve) over a real tap link (label root: skipped with the reason when not
// root or without /dev/net/tun). Each test makes its own namespace (synack-<pid>-<n>, removed
// by NetNs) holding a bridge with two taps, sv0 for the server and hn0 for the harness, with
// no addresses and IPv6 off, so nothing but the test's frames crosses it.
#include "harness/serve/serve.h"

#include <chrono>
#include <filesystem>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/script/parser.h"
#include "harness/script/runner.h"
#include "harness/target/netns.h"
#include "harness/target/tap.h"

namespace synack::serve {
namespace {

using ::testing::HasSubstr;

// A namespace with the bridge and its two taps, a TapServer on sv0 running on a thread of its
// own, and its agent at a unix socket in a temporary directory.
class ServeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = target::linux_target_unavailable(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    auto ns = target::NetNs::create();
    ASSERT_TRUE(ns) << ns.error();
    ns_ = std::move(*ns);
    for (const char* key :
         {"net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6"}) {
      ASSERT_EQ(ns_->write_sysctl(key, "1"), "");
    }
    ASSERT_EQ(ns_->ip_batch({"link add br0 type bridge stp_state 0 forward_delay 0",
                             "tuntap add dev sv0 mode tap", "tuntap add dev hn0 mode tap",
                             "link set sv0 master br0", "link set hn0 master br0",
                             "link set sv0 up", "link set hn0 up", "link set br0 up"}),
              "");
    dir_ = std::filesystem::temp_directory_path() /
           ("synack-serve-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    agent_ = "unix:" + (dir_ / "agent.sock").string();
    const target::NetNs::Enter in(*ns_);
    ASSERT_EQ(in.error(), "");
    ServeConfig config;
    config.ifname = "sv0";
    config.agent = agent_;
    auto server = TapServer::create(io_, config);
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
    // The harness's end stays attached for the whole test (as synack run keeps one per lane).
    target::TapSpec spec;
    spec.ifname = "hn0";
    auto link = target::TapTarget::open_link(spec);
    ASSERT_TRUE(link) << link.error();
    link_ = std::move(*link);
    work_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    stop();
    link_.reset();
    server_.reset();
    ns_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void stop() {
    if (work_.joinable()) {
      io_.stop();
      work_.join();
    }
  }

  // The harness's end: a TapTarget on hn0, with the agent.
  std::unique_ptr<target::TapTarget> harness() {
    target::TapSpec spec;
    spec.ifname = "hn0";
    spec.agent = agent_;
    auto t = target::TapTarget::create(spec, *link_);
    EXPECT_TRUE(t) << t.error();
    return t ? std::move(*t) : nullptr;
  }

  script::CaseResult run(const std::string& text) {
    auto parsed = script::parse_script(text, "t.pkt");
    if (auto* e = std::get_if<script::ScriptError>(&parsed)) {
      ADD_FAILURE() << e->to_string();
      return {};
    }
    auto t = harness();
    if (!t) return {};
    return script::run_script(std::get<script::Script>(parsed), *t, {});
  }

  std::unique_ptr<target::NetNs> ns_;
  std::filesystem::path dir_;
  std::string agent_;
  boost::asio::io_context io_;
  std::unique_ptr<TapServer> server_;
  std::unique_ptr<link::TapLink> link_;
  std::thread work_;
};

// Raw frames on hn0's fd (for ARP, which TapLink answers but never hands back).
class RawTap {
 public:
  explicit RawTap(link::TapLink& link) : link_(&link) {}
  void write(const wire::Bytes& frame) const {
    ASSERT_EQ(::write(link_->fd(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
  }
  // The next ARP frame on hn0 within `ms` milliseconds.
  std::optional<wire::ArpPacket> next_arp(int ms) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    wire::Bytes buf(2048);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{link_->fd(), POLLIN, 0};
      ::poll(&p, 1, 20);
      const ssize_t n = ::read(link_->fd(), buf.data(), buf.size());
      if (n <= 0) continue;
      auto eth = wire::parse_ethernet(wire::ByteSpan(buf.data(), static_cast<std::size_t>(n)));
      if (!eth || eth->header.ethertype != wire::ethertype::kArp) continue;
      if (auto arp = wire::parse_arp(eth->payload)) return *arp;
    }
    return std::nullopt;
  }

 private:
  link::TapLink* link_;
};

wire::Bytes arp_request(wire::Ipv4Addr target) {
  const wire::MacAddr me = *wire::MacAddr::parse(target::TapTarget::kHarnessMac);
  wire::ArpPacket a;
  a.op = wire::arp_op::kRequest;
  a.sender_mac = me;
  a.sender_ip = wire::Ipv4Addr{target::TapTarget::kHarnessAddr};
  a.target_ip = target;
  return wire::emit_ethernet({wire::MacAddr::broadcast(), me, wire::ethertype::kArp},
                             wire::emit_arp(a));
}

TEST_F(ServeFixture, AnswersArpForBothAddressesAndNoOther) {
  const RawTap tap(*link_);
  const wire::MacAddr serve_mac = ServeConfig{}.mac;
  for (std::uint32_t addr : {TapServer::kStackAddr, TapServer::kStackAliasAddr}) {
    tap.write(arp_request(wire::Ipv4Addr{addr}));
    const auto reply = tap.next_arp(1000);
    ASSERT_TRUE(reply) << "no ARP reply for " << wire::Ipv4Addr{addr}.to_string();
    EXPECT_EQ(reply->op, wire::arp_op::kReply);
    EXPECT_EQ(reply->sender_ip.value, addr);
    EXPECT_EQ(reply->sender_mac, serve_mac);
    EXPECT_EQ(reply->target_ip.value, target::TapTarget::kHarnessAddr);
    EXPECT_EQ(reply->target_mac, *wire::MacAddr::parse(target::TapTarget::kHarnessMac));
  }
  tap.write(arp_request(wire::Ipv4Addr::from_octets(192, 168, 0, 9)));
  EXPECT_FALSE(tap.next_arp(200)) << "answered ARP for an address it does not have";
  stop();
  EXPECT_EQ(server_->counters().arp_replies, 2U);
  EXPECT_EQ(server_->peer_mac(), *wire::MacAddr::parse(target::TapTarget::kHarnessMac));
}

TEST_F(ServeFixture, PassiveOpenThroughTapAndAgent) {
  const auto r = run(R"(0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+.05 < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <...>
+.01 < . 1:1(0) ack 1 win 65535
+0  accept(3, ..., ...) = 4
+0  %{ assert tcpi_state == TCP_ESTABLISHED }%
+0  write(4, ..., 10) = 10
+0  > P. 1:11(10) ack 1
+.01 < . 1:1(0) ack 11 win 65535
+.05 > none
)");
  // The silence at the end gives serve time to read the last ACK off its tap before stop().
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kPass) << r.message;
  stop();
  EXPECT_GE(server_->counters().packets_in, 3U);
  EXPECT_GE(server_->counters().packets_out, 2U);
}

TEST_F(ServeFixture, ActiveOpenSynGoesOutBeforeThePeerIsKnown) {
  // The stack speaks first: its SYN goes to the broadcast MAC, which the harness accepts.
  const auto r = run(R"(0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0  connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0  > S 0:0(0) <...>
+.01 < S. 0:0(0) ack 1 win 65535 <mss 1460>
+0  > . 1:1(0) ack 1
)");
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kPass) << r.message;
}

TEST_F(ServeFixture, StackTimersRunOnTheMonotonicClock) {
  // The SYN,ACK is not acknowledged: it comes again after the initial RTO, 1 s (RFC 6298 2.1),
  // then after 2 s; the runner checks the gaps with its tolerance.
  const auto r = run(R"(0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+.05 < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <...>
+1  > S. 0:0(0) ack 1 <...>
+2  > S. 0:0(0) ack 1 <...>
)");
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kPass) << r.message;
  stop();
  EXPECT_GE(server_->counters().timer_fires, 2U);
}

TEST_F(ServeFixture, ResetForgetsTheLastCase) {
  // A first case leaves a listener and a half-open connection behind; reset (as every case's
  // TapTarget does first) clears them: the same bind succeeds again.
  const char* listen = R"(0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+.01 < S 0:0(0) win 65535 <mss 1460>
+0  > S. 0:0(0) ack 1 <...>
)";
  EXPECT_EQ(run(listen).verdict, script::CaseResult::Verdict::kPass);
  const auto r = run(listen);
  EXPECT_EQ(r.verdict, script::CaseResult::Verdict::kPass) << r.message;
}

TEST_F(ServeFixture, ADeadAgentIsAnAgentErrorNotAHang) {
  auto t = harness();
  ASSERT_TRUE(t);
  stop();  // the server stops answering: its loop no longer runs
  const auto start = std::chrono::steady_clock::now();
  target::SockCall c;
  c.op = target::SockCall::Op::kSocket;
  try {
    t->call(c);
    ADD_FAILURE() << "no AgentError";
  } catch (const agent::AgentError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no answer"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ServeSpec, ParsesTapTargets) {
  auto s = target::parse_tap_spec("tap:hn0,agent=unix:/tmp/a.sock,mac=02:00:00:00:00:01");
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->ifname, "hn0");
  EXPECT_EQ(s->agent, "unix:/tmp/a.sock");
  EXPECT_EQ(s->mac, wire::MacAddr::parse("02:00:00:00:00:01"));
  s = target::parse_tap_spec("tap:hn0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->agent, "");
  EXPECT_THAT(target::parse_tap_spec("tap:").error(), HasSubstr("1 to 15 characters"));
  EXPECT_THAT(target::parse_tap_spec("tap:x,agent=8.8.8.8:1").error(), HasSubstr("8.8.8.8"));
  EXPECT_THAT(target::parse_tap_spec("tap:x,frob=1").error(), HasSubstr("unknown part 'frob=1'"));
  EXPECT_THAT(target::parse_tap_spec("tap:x,mac=zz").error(), HasSubstr("mac="));
}

}  // namespace
}  // namespace synack::serve
