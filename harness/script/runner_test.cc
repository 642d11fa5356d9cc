// The runner against the in-process target: matching, remapping, timing, blocking calls and the
// wording of every kind of failure.
#include "harness/script/runner.h"

#include <set>
#include <span>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/script/oracle_observer.h"
#include "harness/script/parser.h"
#include "harness/script/patterns.h"
#include "harness/target/inproc.h"
#include "harness/wire/checksum.h"
#include "harness/wire/format.h"
#include "harness/wire/icmp.h"
#include "harness/wire/tcp.h"

namespace synack::script {
namespace {

using ::testing::HasSubstr;

constexpr const char* kPassiveOpen = R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
)";

// A listener on port 8080 (fd 3).
constexpr const char* kListen = R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
)";
// ... that has answered a SYN.
const std::string kSynReceived = std::string(kListen) + R"(+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
)";

CaseResult run(const std::string& text, RunOptions options = {}) {
  auto parsed = parse_script(text, "t.pkt");
  if (auto* e = std::get_if<ScriptError>(&parsed)) {
    ADD_FAILURE() << e->to_string();
    return {};
  }
  target::InprocTarget target;
  return run_script(std::get<Script>(parsed), target, std::move(options));
}

TEST(Runner, PassesACorrectScript) {
  const CaseResult r = run(kPassiveOpen);
  EXPECT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  EXPECT_EQ(r.link.size(), 3U);
  EXPECT_TRUE(r.link[0].to_target);
  EXPECT_FALSE(r.link[1].to_target);
}

TEST(Runner, OptionalFlagMatchesWithOrWithoutIt) {
  // "P?." accepts a segment with PSH and one without; the other flags are still checked.
  const std::string data = std::string(kPassiveOpen) + "+0 write(4, ..., 10) = 10\n";
  EXPECT_EQ(run(data + "+0 > P?. 1:11(10) ack 1\n").verdict, CaseResult::Verdict::kPass);
  EXPECT_EQ(run(data + "+0 > P. 1:11(10) ack 1\n").verdict, CaseResult::Verdict::kPass);
  const CaseResult fin = run(data + "+0 > FP?. 1:11(10) ack 1\n");
  ASSERT_EQ(fin.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(fin.message, HasSubstr("flags (expected FP?., actual P.)"));
  // Without PSH on the wire: a segment from a zero-window probe is not needed; a pure ACK is.
  const std::string ack = std::string(kPassiveOpen) + "+0 < P. 1:11(10) ack 1 win 65535\n";
  EXPECT_EQ(run(ack + "+.04~+.05 > P?. 1:1(0) ack 11\n").verdict, CaseResult::Verdict::kPass);
}

TEST(Runner, NamesEveryDifferingFieldOfAMismatch) {
  const CaseResult r =
      run(std::string(kPassiveOpen)
              .replace(std::string(kPassiveOpen).find("> S. 0:0(0) ack 1 <mss 1460>"), 28,
                       "> S. 0:0(0) ack 2 win 9 <mss 1400>"));
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message,
              HasSubstr("t.pkt:5:1: outbound segment differs: ack (expected 2, actual 1), "
                        "win (expected 9, actual 65535), options (expected [mss 1400], "
                        "actual [mss 1460])"));
  EXPECT_THAT(
      r.message,
      HasSubstr("expected: 192.168.0.1.8080 > 192.168.0.2.40000: Flags [S.], seq 0, ack 2, win 9"));
  EXPECT_THAT(
      r.message,
      HasSubstr(
          "actual:   192.168.0.1.8080 > 192.168.0.2.40000: Flags [S.], seq 0, ack 1, win 65535"));
  EXPECT_THAT(r.message, HasSubstr("script:   +0 > S. 0:0(0) ack 2 win 9 <mss 1400>"));
}

TEST(Runner, MissingSegmentSaysByWhen) {
  const CaseResult r =
      run(std::string(kPassiveOpen) +
          "+1 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n+0 > P. 11:21(10) ack 1\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("t.pkt:10:1: expected segment did not arrive by 1.004000"));
}

TEST(Runner, LateSegmentSaysHowLate) {
  // The SYN,ACK retransmission comes after 1 s (RTO), not at 0.5 s: 0.5 s late beyond the
  // window 0.5 s +- 12.5%, so the message says when it came.
  const CaseResult r = run(kSynReceived + "+0.5 > S. 0:0(0) ack 1 <mss 1460>\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("t.pkt:6:1: expected segment did not arrive by 0.562500 "
                                   "(script time); the next segment came 0.437500 s later than "
                                   "that, at 1.000000: 192.168.0.1.8080 > 192.168.0.2.40000: "
                                   "Flags [S.]"));
}

TEST(Runner, BlockingCallTimingSaysByHowMuch) {
  const CaseResult r = run(std::string(kListen) + R"(+0 accept(3, ..., ...) = 4
+0.2 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < . 1:1(0) ack 1 win 65535
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("accept blocked until 0.200000, expected it to return at "
                                   "0.000000 (0.200000 s late, tolerance 0.004000 s"));
}

TEST(Runner, UnexpectedSegmentIsAFailure) {
  // The write's segment is not in the script: the next line finds it.
  const CaseResult r =
      run(std::string(kPassiveOpen) + "+0 write(4, ..., 10) = 10\n+1 close(4) = 0\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message,
              HasSubstr("t.pkt:9:1: unexpected segment at 0.000000 before this line: "
                        "192.168.0.1.8080 > 192.168.0.2.40000: Flags [P.], seq 1:11, ack 1"));
}

TEST(Runner, SegmentStillQueuedAtTheEndIsReported) {
  const CaseResult r = run(std::string(kPassiveOpen) + "+0 write(4, ..., 10) = 10\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("at the end of the script: unexpected segment"));
}

TEST(Runner, TooEarlyIsAFailure) {
  // The SYN,ACK retransmission comes after 1 s, not 2 s; 1 s is outside 2 s +- 12.5%.
  const CaseResult r = run(kSynReceived + R"(+2 > S. 0:0(0) ack 1 <mss 1460>
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(
      r.message,
      HasSubstr(
          "t.pkt:6:1: segment arrived 0.750000 s too early (at 1.000000, expected from 1.750000)"));
}

TEST(Runner, ToleranceAcceptsSmallTimingDifferences) {
  // Expected at 1.1 s, sent at 1 s: within max(4 ms, 12.5% of 1.1 s).
  const CaseResult r = run(kSynReceived + R"(+1.1 > S. 0:0(0) ack 1 <mss 1460>
)");
  EXPECT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
}

TEST(Runner, SilenceLineFailsWhenSomethingIsSent) {
  const CaseResult r = run(kSynReceived + R"(+2 > none
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(
      r.message,
      HasSubstr("t.pkt:6:1: unexpected segment at 1.000000 where the script expects silence"));
}

TEST(Runner, RemapsSequenceNumbersWithANonZeroHarnessIsn) {
  // The harness ISN shifts every inbound seq and every outbound ack; scripts do not change.
  const CaseResult r = run("--harness_isn=4294967000\n" + std::string(kPassiveOpen) +
                           "+0 < P. 1:1001(1000) ack 1 win 65535\n+0 read(4, ..., 2000) = 1000\n"
                           "+.04 > . 1:1(0) ack 1001\n");
  EXPECT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  auto first = wire::parse_tcp_packet(r.link.front().packet);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->tcp.seq.raw(), 4294967000U);
}

TEST(Runner, FillsTsEcrFromTheTargetsLastTsval) {
  const CaseResult r =
      run(std::string(kListen) + R"(+0 < S 0:0(0) win 65535 <mss 1460,nop,nop,TS val 100 ecr 0>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val 1 ecr 100>
+0 < . 1:1(0) ack 1 win 65535 <nop,nop,TS val 101 ecr 1>
+0 accept(3, ..., ...) = 4
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  auto synack = wire::parse_tcp_packet(r.link[1].packet);
  auto ack = wire::parse_tcp_packet(r.link[2].packet);
  ASSERT_TRUE(synack && ack);
  EXPECT_EQ(ack->tcp.find<wire::OptTimestamps>()->ecr,
            synack->tcp.find<wire::OptTimestamps>()->val);
}

TEST(Runner, BlockingCallReturnsWhenItsConditionHolds) {
  const CaseResult r = run(std::string(kListen) + R"(+0...0.2 accept(3, ..., ...) = 4
+.2 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < . 1:1(0) ack 1 win 65535
)");
  EXPECT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
}

TEST(Runner, BlockingCallThatReturnsAtTheWrongTimeSaysWhen) {
  const CaseResult r = run(std::string(kListen) + R"(+0 accept(3, ..., ...) = 4
+.2 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < . 1:1(0) ack 1 win 65535
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(
      r.message,
      HasSubstr("t.pkt:4:1: accept blocked until 0.200000, expected it to return at 0.000000"));
}

TEST(Runner, SyscallResultAndErrnoMismatches) {
  const CaseResult wrong_errno =
      run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = "
          "0\n+0 accept(3, ..., ...) = -1 EAGAIN\n");
  ASSERT_EQ(wrong_errno.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(wrong_errno.message, HasSubstr("accept failed with EINVAL, expected EAGAIN"));
  // Any Linux errno name is known (a stack reports ICMP errors as EPROTO, EHOSTDOWN, ENONET):
  // a wrong one is a mismatch, not an unknown name; a made-up one is a script error.
  const CaseResult icmp_errno =
      run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = "
          "0\n+0 accept(3, ..., ...) = -1 ENONET\n");
  ASSERT_EQ(icmp_errno.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(icmp_errno.message, HasSubstr("accept failed with EINVAL, expected ENONET"));
  const CaseResult made_up =
      run("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = "
          "0\n+0 accept(3, ..., ...) = -1 ENOSUCH\n");
  EXPECT_THAT(made_up.message, HasSubstr("unknown errno 'ENOSUCH'"));
  const CaseResult wrong_value = run(std::string(kPassiveOpen) +
                                     "+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                                     "+0 read(4, ..., 10) = 3\n");
  ASSERT_EQ(wrong_value.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(wrong_value.message, HasSubstr("read returned -1 EAGAIN, expected 3"));
}

TEST(Runner, BlockingCallThatNeverCompletesIsReported) {
  const CaseResult r = run(std::string(kPassiveOpen) + "+0 read(4, ..., 10) = 3\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("t.pkt:8:1: read never returned"));
}

TEST(Runner, AssertionFailureShowsTheActualValue) {
  const CaseResult r =
      run(std::string(kPassiveOpen) + "+0 %{ assert tcpi_state == TCP_TIME_WAIT }%\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(
      r.message,
      HasSubstr("assertion failed: tcpi_state == TCP_TIME_WAIT (tcpi_state is TCP_ESTABLISHED)"));
  const CaseResult missing =
      run(std::string(kPassiveOpen) + "+0 %{ assert tcpi_reordering > 0 }%\n");
  EXPECT_THAT(missing.message, HasSubstr("tcpi_reordering is not available on target inproc"));
  // Congestion state is there: ten segments of 1460 bytes initially (RFC 6928).
  const CaseResult cwnd = run(std::string(kPassiveOpen) +
                              "+0 %{ assert tcpi_snd_cwnd == 10 and tcpi_snd_mss == 1460 }%\n");
  EXPECT_EQ(cwnd.verdict, CaseResult::Verdict::kPass) << cwnd.message;
}

TEST(Runner, ScriptErrorsAreNotTestFailures) {
  const CaseResult unknown = run("--frobnicate=1\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n");
  EXPECT_EQ(unknown.verdict, CaseResult::Verdict::kError);
  EXPECT_THAT(unknown.message,
              HasSubstr("t.pkt:1:3: error: --frobnicate is not supported by target inproc"));
  const CaseResult bad_value = run("--tcp_syncookies=seven\n");
  EXPECT_THAT(bad_value.message, HasSubstr("bad value for target inproc"));
  const CaseResult syscall = run("0 frobnicate(3) = 0\n");
  EXPECT_EQ(syscall.verdict, CaseResult::Verdict::kError);
  EXPECT_THAT(syscall.message, HasSubstr("unsupported syscall 'frobnicate'"));
  for (const char* addr : {"inet_addr(\"192.168.0\")", "inet_addr(7)", "htonl(1)"}) {
    const CaseResult bad_addr = run(
        std::string("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, {sin_port=htons(1), "
                    "sin_addr=") +
        addr + "}, 16) = 0\n");
    EXPECT_EQ(bad_addr.verdict, CaseResult::Verdict::kError) << addr;
    EXPECT_THAT(bad_addr.message,
                HasSubstr("t.pkt:2:1: error: bind: sin_addr must be inet_addr(\"a.b.c.d\") or "
                          "INADDR_ANY"))
        << addr;
  }
}

TEST(Runner, BindAndConnectPassTheAddressTheyName) {
  // MUST-43 and MUST-46 through the script: the target's second address, one it lacks, and a
  // multicast address to connect to.
  const CaseResult r = run(R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, {sin_port=htons(8080), sin_addr=inet_addr("192.168.0.9")}, 16) = -1 EADDRNOTAVAIL
+0 bind(3, {sin_port=htons(8080), sin_addr=inet_addr("192.168.0.3")}, 16) = 0
+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0 connect(4, {sin_port=htons(8080), sin_addr=inet_addr("224.0.0.1")}, 16) = -1 ENETUNREACH
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460> [dst 192.168.0.3]
+0 > S. 0:0(0) ack 1 <mss 1460> [src 192.168.0.3]
)");
  EXPECT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
}

TEST(Runner, StackKnobsApplyBeforeTheCase) {
  // With cookies off and backlog 1, a second SYN beyond the full SYN queue gets nothing.
  const CaseResult r =
      run("--tcp_syncookies=0\n" + kSynReceived + R"(+.1 < S 1000:1000(0) win 65535 <mss 1460>
+.5 > none
)");
  EXPECT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
}

}  // namespace
}  // namespace synack::script

namespace synack::script {
namespace {

constexpr const char* kTimestampOpen = R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460,nop,nop,TS val 100 ecr 0>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,TS val 1 ecr 100>
+0 < P. 1:11(10) ack 1 win 65535 <nop,nop,TS val 101 ecr 1>
+0 accept(3, ..., ...) = 4
)";

TEST(Runner, RebasesTheTargetsTsValWhenAsked) {
  // With --tcp_ts_tick_usecs=1000 the ACK 40 ms later must carry TS val first + 40.
  const std::string head = std::string("--tcp_ts_tick_usecs=1000\n") + kTimestampOpen;
  const CaseResult good = run(head + "+.04 > . 1:1(0) ack 11 <nop,nop,TS val 41 ecr 101>\n");
  EXPECT_EQ(good.verdict, CaseResult::Verdict::kPass) << good.message;
  const CaseResult bad = run(head + "+.04 > . 1:1(0) ack 11 <nop,nop,TS val 90 ecr 101>\n");
  ASSERT_EQ(bad.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(bad.message,
              HasSubstr("TS val (expected 90, actual 41, rebased on the first TS val)"));
  // Without the option TS val is not compared, but ecr always is.
  const CaseResult unchecked =
      run(std::string(kTimestampOpen) + "+.04 > . 1:1(0) ack 11 <nop,nop,TS val 90 ecr 101>\n");
  EXPECT_EQ(unchecked.verdict, CaseResult::Verdict::kPass) << unchecked.message;
  const CaseResult ecr =
      run(std::string(kTimestampOpen) + "+.04 > . 1:1(0) ack 11 <nop,nop,TS val 41 ecr 102>\n");
  ASSERT_EQ(ecr.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(ecr.message, HasSubstr("ecr 102], actual [nop,nop,TS val"));
}

TEST(Runner, MssOptionSetsTheAdvertisedMss) {
  const CaseResult r = run(std::string("--mss=1000\n") + kPassiveOpen);
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("options (expected [mss 1460], actual [mss 1000])"));
}

}  // namespace
}  // namespace synack::script

namespace synack::script {
namespace {

// The in-process stack behind a faulty link: the second copy of any data segment carries
// different bytes (a broken retransmission) with fixed checksums. Scripts compare only lengths,
// so only the oracle can notice.
class CorruptRetransmissions : public target::InprocTarget {
 public:
  std::optional<target::Captured> next_packet(std::int64_t deadline_us) override {
    auto c = InprocTarget::next_packet(deadline_us);
    if (!c) return c;
    auto p = wire::parse_tcp_packet(c->packet);
    if (p && !p->payload.empty() && !seen_.insert(p->tcp.seq.raw()).second) {
      p->payload[0] ^= 0xff;
      p->recompute();
      c->packet = wire::emit(*p);
    }
    return c;
  }

 private:
  std::set<std::uint32_t> seen_;
};

TEST(Runner, OracleViolationFailsTheCaseWithTheInvariantsName) {
  auto parsed = parse_script(std::string(kPassiveOpen) +
                                 "+0 write(4, ..., 10) = 10\n"
                                 "+0 > P. 1:11(10) ack 1\n"
                                 "+.2 > P. 1:11(10) ack 1\n",
                             "t.pkt");
  ASSERT_TRUE(std::holds_alternative<Script>(parsed));
  CorruptRetransmissions target;
  OracleObserver oracle;
  const CaseResult r = run_script(std::get<Script>(parsed), target, {}, &oracle);
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("t.pkt:10:1: oracle:"));
  EXPECT_THAT(r.message, HasSubstr("retransmission-same-bytes"));

  // The same script on an honest target passes, oracle and all.
  target::InprocTarget honest;
  OracleObserver oracle2;
  const CaseResult ok = run_script(std::get<Script>(parsed), honest, {}, &oracle2);
  EXPECT_EQ(ok.verdict, CaseResult::Verdict::kPass) << ok.message;
}

}  // namespace
}  // namespace synack::script

// --- multi-connection and IP-level extensions: flows ([sport N]), IP attributes, raw TCP
// options, ICMP injection and the ISN pseudo-fields.
namespace synack::script {
namespace {

// Two handshakes on one listener, from harness ports 40001 and 40002, interleaved; accept()
// returns 40002's connection first (its handshake completes first).
const std::string kTwoFlows = std::string(R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 4) = 0
+0 < S 0:0(0) win 65535 <mss 1460> [sport 40001]
+0 > S. 0:0(0) ack 1 <mss 1460> [sport 40001]
+0 < S 0:0(0) win 65535 <mss 1460> [sport 40002]
+0 > S. 0:0(0) ack 1 <mss 1460> [sport 40002]
+0 < . 1:1(0) ack 1 win 65535 [sport 40002]
+0 accept(3, ..., ...) = 4
+0 < . 1:1(0) ack 1 win 65535 [sport 40001]
+0 accept(3, ..., ...) = 5
)");

wire::TcpPacket tcp_at(const CaseResult& r, std::size_t i) {
  auto p = wire::parse_tcp_packet(r.link.at(i).packet);
  EXPECT_TRUE(p) << "link[" << i << "] is not TCP";
  return p ? *p : wire::TcpPacket{};
}

TEST(RunnerFlows, EachHarnessPortHasItsOwnSequenceSpaces) {
  const CaseResult r = run(kTwoFlows + R"(+0 write(5, ..., 10) = 10
+0 > P. 1:11(10) ack 1 [sport 40001]
+0 < P. 1:6(5) ack 1 win 65535 [sport 40002]
+0 read(4, ..., 100) = 5
+.04 > . 1:1(0) ack 6 [sport 40002]
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  const wire::TcpPacket synack1 = tcp_at(r, 1);
  const wire::TcpPacket synack2 = tcp_at(r, 3);
  EXPECT_EQ(synack1.tcp.dst_port, 40001);
  EXPECT_EQ(synack2.tcp.dst_port, 40002);
  EXPECT_NE(synack1.tcp.seq, synack2.tcp.seq);
  // Each inbound ACK acknowledges its own flow's ISN + 1.
  EXPECT_EQ(tcp_at(r, 4).tcp.src_port, 40002);
  EXPECT_EQ(tcp_at(r, 4).tcp.ack, synack2.tcp.seq + 1);
  EXPECT_EQ(tcp_at(r, 5).tcp.src_port, 40001);
  EXPECT_EQ(tcp_at(r, 5).tcp.ack, synack1.tcp.seq + 1);
}

TEST(RunnerFlows, SegmentOnAnotherFlowNamesBothFlowsAndTheirFds) {
  // fd 5 is 40001's connection: its data cannot match a line about 40002.
  const CaseResult r = run(kTwoFlows + R"(+0 write(5, ..., 10) = 10
+0 > P. 1:11(10) ack 1 [sport 40002]
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(r.message, HasSubstr("t.pkt:13:1: the target sent a segment on flow 40001 (fd 5) "
                                   "where the script expects one on flow 40002 (fd 4): "
                                   "192.168.0.1.8080 > 192.168.0.2.40001: Flags [P.], seq 1:11"));
}

TEST(RunnerFlows, LinesWithoutSportStayOnTheDefaultFlowAfterAccept) {
  const CaseResult r =
      run(std::string(kListen) + R"(+0 < S 0:0(0) win 65535 <mss 1460> [sport 40001]
+0 > S. 0:0(0) ack 1 <mss 1460> [sport 40001]
+0 < . 1:1(0) ack 1 win 65535 [sport 40001]
+0 accept(3, ..., ...) = 4
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < P. 1:11(10) ack 1 win 65535
+0 accept(3, ..., ...) = 5
+0 read(5, ..., 100) = 10
+.04 > . 1:1(0) ack 11
)");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  EXPECT_EQ(tcp_at(r, 3).tcp.src_port, 40000);
  EXPECT_EQ(tcp_at(r, 5).tcp.src_port, 40000);
}

TEST(RunnerAttributes, InboundIpFieldsAreOnTheWire) {
  const CaseResult r = run(std::string(kListen) +
                           "+0 < S 0:0(0) win 65535 <mss 1460> [tos 0x10, ttl 3, ipopts 0x010101]\n"
                           "+0 > S. 0:0(0) ack 1 <mss 1460> [tos 0, ttl 64]\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  const wire::Bytes& syn = r.link.at(0).packet;
  EXPECT_EQ(syn[0], 0x46);  // IHL 6: three option bytes padded with one EOL
  EXPECT_EQ(syn[1], 0x10);
  EXPECT_EQ(syn[8], 3);
  EXPECT_EQ(wire::hex_string(wire::ByteSpan(syn).subspan(20, 4)), "01010100");
  EXPECT_TRUE(tcp_at(r, 0).ip_checksum_ok);
}

TEST(RunnerAttributes, SourceAddressOverrideAndOutboundAddressChecks) {
  // A SYN from another address: the SYN,ACK goes there, and [dst ...] expects it.
  const std::string head =
      std::string(kListen) + "+0 < S 0:0(0) win 65535 <mss 1460> [src 10.0.0.9]\n";
  const CaseResult ok = run(head + "+0 > S. 0:0(0) ack 1 <mss 1460> [dst 10.0.0.9]\n");
  ASSERT_EQ(ok.verdict, CaseResult::Verdict::kPass) << ok.message;
  EXPECT_EQ(tcp_at(ok, 0).ip.src.to_string(), "10.0.0.9");
  const CaseResult plain = run(head + "+0 > S. 0:0(0) ack 1 <mss 1460>\n");
  ASSERT_EQ(plain.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(plain.message, HasSubstr("addresses (192.168.0.1 > 10.0.0.9)"));
  const CaseResult wrong =
      run(head + "+0 > S. 0:0(0) ack 1 <mss 1460> [src 192.168.0.7, dst 10.0.0.9, ttl 63]\n");
  ASSERT_EQ(wrong.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(wrong.message,
              HasSubstr("src (expected 192.168.0.7, actual 192.168.0.1), ttl (expected 63, "
                        "actual 64)"));
  EXPECT_THAT(wrong.message, HasSubstr("expected: 192.168.0.7.8080 > 10.0.0.9.40000"));
}

// The TCP option space of an IPv4 packet without IP options.
std::string option_space(const wire::Bytes& packet) {
  const std::size_t data_offset = (packet.at(20 + 12) >> 4) * 4U;
  return wire::hex_string(wire::ByteSpan(packet).subspan(40, data_offset - 20));
}

TEST(RunnerRawOptions, GoOutVerbatimPaddedToAWord) {
  const CaseResult r = run(std::string(kListen) +
                           "+0 < S 0:0(0) win 65535 <mss 1460, raw 0xfe04abcd, nop>\n"
                           "+0 > S. 0:0(0) ack 1 <mss 1460>\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  EXPECT_EQ(option_space(r.link.at(0).packet), "020405b4fe04abcd01000000");
  // Illegal lengths (MUST-7) go out as written: kind 30 with length 0, kind 2 running past the
  // header. Whatever the stack makes of them, the emitted bytes are these.
  const CaseResult zero = run(std::string(kListen) + "+0 < S 0:0(0) win 65535 <nop, raw 1e00>\n");
  EXPECT_EQ(option_space(zero.link.at(0).packet), "011e0000");
  const CaseResult overrun =
      run(std::string(kListen) + "+0 < S 0:0(0) win 65535 <mss 1460, raw 0x0208>\n");
  EXPECT_EQ(option_space(overrun.link.at(0).packet), "020405b402080000");
}

TEST(RunnerRawOptions, OutboundRawIsComparedByteForByte) {
  const std::string head = std::string(kListen) + "+0 < S 0:0(0) win 65535 <mss 1460>\n";
  const CaseResult same = run(head + "+0 > S. 0:0(0) ack 1 <raw 020405b4>\n");
  EXPECT_EQ(same.verdict, CaseResult::Verdict::kPass) << same.message;
  const CaseResult other = run(head + "+0 > S. 0:0(0) ack 1 <raw 020405b5>\n");
  ASSERT_EQ(other.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(other.message, HasSubstr("options (expected [mss 1461], actual [mss 1460])"));
  // Bytes that are not options at all are compared as bytes.
  const CaseResult illegal = run(head + "+0 > S. 0:0(0) ack 1 <raw 0x0200>\n");
  ASSERT_EQ(illegal.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(illegal.message, HasSubstr("options (expected 0x02000000, actual 0x020405b4)"));
  EXPECT_THAT(illegal.message, HasSubstr("options [0x0200], length 0"));
}

// Keeps ICMP away from the stack: these tests check what the harness emits, whatever the stack
// makes of it (the in-process stack may well react to an ICMP error one day).
class IcmpSink : public target::InprocTarget {
 public:
  void inject(std::span<const std::uint8_t> packet) override {
    if (packet.size() > 9 && packet[9] == wire::kIpProtoIcmp) {
      icmp.emplace_back(packet.begin(), packet.end());
      return;
    }
    InprocTarget::inject(packet);
  }
  std::vector<wire::Bytes> icmp;
};

TEST(RunnerIcmp, QuotesTheTargetsSegmentOnTheLinesFlow) {
  auto parsed = parse_script(kTwoFlows + R"(+0 write(5, ..., 1000) = 1000
+0 > P. 1:1001(1000) ack 1 [sport 40001]
+.01 < icmp unreachable frag_needed mtu 1200 [1:1001(1000)] [sport 40001]
+0 < icmp time_exceeded ttl_exceeded [1:1(0)] [sport 40002, src 10.0.0.254, tos 0xc0, ttl 7]
+0 < icmp 3 13 [7:7(0)]
)",
                             "t.pkt");
  ASSERT_TRUE(std::holds_alternative<Script>(parsed)) << std::get<ScriptError>(parsed).to_string();
  IcmpSink target;
  const CaseResult r = run_script(std::get<Script>(parsed), target, {});
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  ASSERT_EQ(target.icmp.size(), 3U);
  const std::uint32_t isn1 = tcp_at(r, 1).tcp.seq.raw();
  const std::uint32_t isn2 = tcp_at(r, 3).tcp.seq.raw();

  auto frag = wire::parse_icmp_packet(target.icmp[0]);
  ASSERT_TRUE(frag) << frag.error().message();
  EXPECT_TRUE(frag->icmp_checksum_ok);
  EXPECT_TRUE(frag->ip_checksum_ok);
  EXPECT_EQ(frag->ip.src.to_string(), "192.168.0.2");  // the harness's own address
  EXPECT_EQ(frag->ip.dst.to_string(), "192.168.0.1");
  EXPECT_EQ(frag->icmp.type, 3);
  EXPECT_EQ(frag->icmp.code, 4);
  EXPECT_EQ(frag->icmp.rest, 1200U);
  // The quote: the segment's IPv4 header (target > harness, TCP, 20 + 20 + 1000 bytes, DF) and
  // the first 8 bytes of its TCP header: ports 8080 > 40001 and the absolute sequence number.
  const wire::Bytes& q = frag->icmp.body;
  ASSERT_EQ(q.size(), 28U);
  EXPECT_EQ(wire::hex_string(wire::ByteSpan(q).first(4)), "45000410");
  EXPECT_EQ(q[9], wire::kIpProtoTcp);
  EXPECT_EQ(wire::load_be32(q, 12), 0xc0a80001U);
  EXPECT_EQ(wire::load_be32(q, 16), 0xc0a80002U);
  EXPECT_EQ(wire::load_be16(q, 20), 8080);
  EXPECT_EQ(wire::load_be16(q, 22), 40001);
  EXPECT_EQ(wire::load_be32(q, 24), isn1 + 1);
  EXPECT_EQ(wire::internet_checksum(wire::ByteSpan(q).first(20)), 0);

  auto ttl = wire::parse_icmp_packet(target.icmp[1]);
  ASSERT_TRUE(ttl);
  EXPECT_EQ(ttl->ip.src.to_string(), "10.0.0.254");
  EXPECT_EQ(ttl->ip.tos, 0xc0);
  EXPECT_EQ(ttl->ip.ttl, 7);
  EXPECT_EQ(ttl->icmp.type, 11);
  EXPECT_EQ(ttl->icmp.code, 0);
  EXPECT_EQ(ttl->icmp.rest, 0U);
  EXPECT_EQ(wire::load_be16(ttl->icmp.body, 22), 40002);
  EXPECT_EQ(wire::load_be32(ttl->icmp.body, 24), isn2 + 1);

  // Without [sport]: the default flow (40000), which has no ISN: the bracket is absolute then.
  auto numbered = wire::parse_icmp_packet(target.icmp[2]);
  ASSERT_TRUE(numbered);
  EXPECT_EQ(numbered->icmp.code, 13);
  EXPECT_EQ(wire::load_be16(numbered->icmp.body, 22), 40000);
  EXPECT_EQ(wire::load_be32(numbered->icmp.body, 24), 7U);
  // The run's link has them too, for pcaps and -v.
  EXPECT_EQ(r.link.at(r.link.size() - 3).packet, target.icmp[0]);
  EXPECT_TRUE(r.link.back().to_target);
}

TEST(RunnerIcmp, InprocTargetTakesItAsAnyIpv4Packet) {
  auto parsed = parse_script(
      std::string(kListen) + "+0 < icmp unreachable port_unreachable [1:1(0)]\n", "t.pkt");
  ASSERT_TRUE(std::holds_alternative<Script>(parsed));
  target::InprocTarget target;
  const CaseResult r = run_script(std::get<Script>(parsed), target, {});
  EXPECT_EQ(target.stack().counters().packets_in, 1U);
  ASSERT_EQ(r.link.size(), 1U);
  EXPECT_EQ(r.link[0].packet[9], wire::kIpProtoIcmp);
}

// Flow 40001 opened, reset, and opened again 1 s later: the same 4-tuple both times.
const std::string kReopened = std::string(kListen) +
                              R"(+0 < S 0:0(0) win 65535 <mss 1460> [sport 40001]
+0 > S. 0:0(0) ack 1 <mss 1460> [sport 40001]
+0 < R 1:1(0) win 0 [sport 40001]
+1 < S 0:0(0) win 65535 <mss 1460> [sport 40001]
+0 > S. 0:0(0) ack 1 <mss 1460> [sport 40001]
+0 < S 0:0(0) win 65535 <mss 1460> [sport 40002]
+0 > S. 0:0(0) ack 1 <mss 1460> [sport 40002]
)";

TEST(RunnerIsn, GapAndAdvanceComeFromTheTargetsSyns) {
  const CaseResult r =
      run(kReopened +
          "+0 %{ assert isn_advance(40001) >= 249000 and isn_advance(40001) <= 251000 }%\n"
          "+0 %{ assert isn_gap(40001, 40002) > 100000 and isn_gap(40002, 40001) <= 2147483648 "
          "}%\n");
  ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
  // RFC 6528's 4 us clock: 1 s later, 250000 ahead.
  EXPECT_EQ(tcp_at(r, 4).tcp.seq - tcp_at(r, 1).tcp.seq, 250000);
  const CaseResult exact = run(kReopened + "+0 %{ assert isn_advance(40001) < 1000 }%\n");
  ASSERT_EQ(exact.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(exact.message, HasSubstr("t.pkt:11:1: assertion failed: isn_advance(40001) < 1000 "
                                       "(isn_advance(40001) is 250000)"));
  const CaseResult gap = run(kReopened + "+0 %{ assert isn_gap(40001, 40002) < 0 }%\n");
  ASSERT_EQ(gap.verdict, CaseResult::Verdict::kFail);
  EXPECT_THAT(gap.message, HasSubstr("(isn_gap(40001, 40002) is "));
}

TEST(RunnerIsn, FlowsWithoutEnoughIsnsAreScriptErrors) {
  const CaseResult none = run(kReopened + "+0 %{ assert isn_gap(40001, 40009) > 0 }%\n");
  EXPECT_EQ(none.verdict, CaseResult::Verdict::kError);
  EXPECT_THAT(none.message, HasSubstr("t.pkt:11:1: error: isn_gap(40001, 40009): flow 40009 has "
                                      "no ISN yet"));
  const CaseResult once = run(kReopened + "+0 %{ assert isn_advance(40002) > 0 }%\n");
  EXPECT_EQ(once.verdict, CaseResult::Verdict::kError);
  EXPECT_THAT(once.message, HasSubstr("isn_advance(40002): flow 40002 has had one ISN so far"));
}

// The bulk fills make exactly the bytes of pattern_byte and write_byte, across the 2^32 wrap
// of a sequence number too.
TEST(Patterns, FillsMatchTheBytewiseFunctions) {
  for (const std::uint32_t first : {0U, 1U, 25U, 26U, 1000U, 0xffffffe0U, 0xffffffffU}) {
    std::vector<std::uint8_t> out(3000);  // several of fill_cycle's chunks
    fill_pattern(out, first);
    for (std::uint32_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i], pattern_byte(first + i)) << first << " + " << i;
    }
    fill_write(out, first);
    for (std::uint32_t i = 0; i < out.size(); ++i) {
      ASSERT_EQ(out[i], write_byte(std::size_t{first} + i)) << first << " + " << i;
    }
  }
}

}  // namespace
}  // namespace synack::script
