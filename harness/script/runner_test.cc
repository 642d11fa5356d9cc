// The runner against the in-process target: matching, remapping, timing, blocking calls and the
// wording of every kind of failure.
#include "harness/script/runner.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/script/oracle_observer.h"
#include "harness/script/parser.h"
#include "harness/target/inproc.h"
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
