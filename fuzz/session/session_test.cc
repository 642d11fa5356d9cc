// The session fuzzer's trace (trace.h) and executor (session.h): the wire form keeps its meaning,
// the mutator keeps inputs valid and canonical, and the calls the trace makes reach the stack.
#include "fuzz/session/session.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz/replay/log.h"
#include "fuzz/session/trace.h"

namespace synack::fuzz::session {
namespace {

std::vector<std::string> calls_of(const Trace& t) {
  SessionLog log;
  EXPECT_EQ(run(t, &log), "");
  std::vector<std::string> out;
  for (const LogEvent& e : log.events) {
    if (e.kind == LogEvent::Kind::kCall) out.push_back(e.call);
  }
  return out;
}

bool has_call(const std::vector<std::string>& calls, const std::string& text) {
  return std::find(calls.begin(), calls.end(), text) != calls.end();
}

TEST(SessionTrace, EverySockoptValueTheTraceCanMakeComesBackFromItsCall) {
  for (std::size_t option = 0; option < kSockoptCount; ++option) {
    for (const int value : {-1, 0, 1, 2, 64, 255, 256, 1460, 70000}) {
      const auto raw = sockopt_raw(option, value);
      if (!raw) continue;
      const Call c = setsockopt_call(3, option, *raw);
      EXPECT_EQ(c.slot, 3);
      const SockoptChoice got = setsockopt_choice(c);
      EXPECT_EQ(got.option, option) << kSockoptNames[option] << " " << value;
      EXPECT_EQ(got.value, value) << kSockoptNames[option];
    }
    EXPECT_EQ(getsockopt_choice(getsockopt_call(1, option)), option) << kSockoptNames[option];
  }
  // IP_TTL reaches both of Linux's EINVAL edges and its "default" -1; SO_REUSEADDR is 0 or 1.
  EXPECT_TRUE(sockopt_raw(11, -1) && sockopt_raw(11, 0) && sockopt_raw(11, 256));
  EXPECT_FALSE(sockopt_raw(9, 2));
}

TEST(SessionTrace, InputsWrittenBeforeTheNewOpsKeepTheirMeaning) {
  // The nine first options and SO_ERROR are chosen as they were when kSockoptNames had nine
  // entries (arg % 9, value from arg / 9; getsockopt arg % 10, 9 for SO_ERROR): the committed
  // corpus, regression inputs included, depends on it.
  const SockoptChoice rcvbuf = setsockopt_choice(Call{Call::Op::kSetsockopt, 0, 5 + 9 * 1000});
  EXPECT_EQ(std::string(kSockoptNames[rcvbuf.option]), "SO_RCVBUF");
  EXPECT_EQ(rcvbuf.value, 1256);
  EXPECT_EQ(std::string(kSockoptNames[getsockopt_choice(Call{Call::Op::kGetsockopt, 0, 9})]),
            "SO_ERROR");
  EXPECT_EQ(std::string(kSockoptNames[getsockopt_choice(Call{Call::Op::kGetsockopt, 0, 18})]),
            "TCP_USER_TIMEOUT");
  // Op bytes 0..11 decode to the ops they always did.
  const std::vector<std::uint8_t> bytes = {0x03, 15, 0, 0, 2, 11, 0, 0, 0, 0, 0};
  const Trace t = decode(bytes.data(), bytes.size());
  ASSERT_EQ(t.ops.size(), 1U);
  EXPECT_EQ(std::get<Call>(t.ops[0]).op, Call::Op::kIoctl);
}

TEST(SessionTrace, MutationsAlwaysGiveACanonicalInputWithinTheLimit) {
  std::vector<std::uint8_t> data(4096);
  std::size_t size = 0;
  std::size_t with_new_ops = 0;
  for (unsigned seed = 1; seed <= 3000; ++seed) {
    size = mutate(data.data(), size, 2048, seed);
    ASSERT_LE(size, 2048U);
    const Trace t = decode(data.data(), size);
    ASSERT_EQ(encode(t), std::vector<std::uint8_t>(data.data(), data.data() + size)) << seed;
    with_new_ops +=
        static_cast<std::size_t>(std::count_if(t.ops.begin(), t.ops.end(), [](const Op& op) {
          const auto* c = std::get_if<Call>(&op);
          return c != nullptr && c->op >= Call::Op::kSetsockoptMore;
        }));
  }
  EXPECT_GT(with_new_ops, 0U);  // the mutator makes the ops added last too
}

TEST(SessionRun, ConnectAgainIsAlreadyInProgressThenAlreadyConnected) {
  // RFC 9293 3.10.1 OPEN: "error: connection already exists".
  Trace t;
  t.ops.emplace_back(Call{Call::Op::kConnect, 0, 0});
  t.ops.emplace_back(Call{Call::Op::kConnectAgain, 0, 0});
  Segment syn_ack;
  syn_ack.flags = 0x12;  // SYN, ACK
  syn_ack.seq_anchor = SeqAnchor::kPeerIss;
  syn_ack.ack_anchor = AckAnchor::kStackIss;
  syn_ack.ack_offset = 1;
  t.ops.emplace_back(syn_ack);
  t.ops.emplace_back(Call{Call::Op::kConnectAgain, 0, 0});
  const auto calls = calls_of(t);
  EXPECT_TRUE(has_call(calls,
                       "connect(3, {sin_family=AF_INET, sin_port=htons(40000), "
                       "sin_addr=inet_addr(\"192.168.0.2\")}, 16) = -1 EALREADY"))
      << ::testing::PrintToString(calls);
  EXPECT_TRUE(has_call(calls,
                       "connect(3, {sin_family=AF_INET, sin_port=htons(40000), "
                       "sin_addr=inet_addr(\"192.168.0.2\")}, 16) = -1 EISCONN"))
      << ::testing::PrintToString(calls);
}

TEST(SessionRun, TheOptionsAddedLastReachTheStack) {
  Trace t;
  t.ops.emplace_back(Call{Call::Op::kListen, 0, 0});
  t.ops.emplace_back(setsockopt_call(0, 11, *sockopt_raw(11, 0)));   // IP_TTL 0: EINVAL
  t.ops.emplace_back(setsockopt_call(0, 11, *sockopt_raw(11, 17)));  // IP_TTL 17
  t.ops.emplace_back(getsockopt_call(0, 11));
  t.ops.emplace_back(setsockopt_call(0, kSoError, 0));  // read-only
  const auto calls = calls_of(t);
  EXPECT_TRUE(has_call(calls, "setsockopt(3, IPPROTO_IP, IP_TTL, [0], 4) = -1 EINVAL"))
      << ::testing::PrintToString(calls);
  EXPECT_TRUE(has_call(calls, "setsockopt(3, IPPROTO_IP, IP_TTL, [17], 4) = 0"));
  EXPECT_TRUE(has_call(calls, "getsockopt(3, IPPROTO_IP, IP_TTL, [17], [4]) = 0"));
  EXPECT_TRUE(has_call(calls, "setsockopt(3, SOL_SOCKET, SO_ERROR, [0], 4) = -1 ENOPROTOOPT"));
}

}  // namespace
}  // namespace synack::fuzz::session
