// Mutants: one expectation changed each, all of them failing against the stack the original
// passes on, and nothing that is not an expectation touched.
#include "harness/script/mutate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/script/parser.h"
#include "harness/script/runner.h"
#include "harness/target/inproc.h"

namespace synack::script {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;

constexpr const char* kCase = R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+0 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
+0 < P. 1:11(10) ack 1 win 65535
+0 read(4, ..., 100) = 10
+0 connect(4, ..., ...) = -1 EISCONN (Transport endpoint is already connected)
+0 %{ assert tcpi_state == TCP_ESTABLISHED and tcpi_unacked <= 0 }%
+.04 > . 1:1(0) ack 11 win 65525
)";

Script parse(const std::string& text) {
  auto parsed = parse_script(text, "t.pkt");
  if (auto* e = std::get_if<ScriptError>(&parsed)) {
    ADD_FAILURE() << e->to_string();
    return {};
  }
  return std::get<Script>(parsed);
}

std::vector<std::string> descriptions(const std::vector<Mutant>& ms) {
  std::vector<std::string> d;
  for (const Mutant& m : ms) d.push_back(m.description);
  return d;
}

TEST(Mutate, ChangesEachExpectationOnceAndNothingElse) {
  const auto ms = mutants(parse(kCase));
  EXPECT_THAT(
      descriptions(ms),
      ElementsAre(EndsWith(":1:1: socket = 3 -> -1 EAGAIN"), EndsWith(":2:1: bind = 0 -> 1"),
                  EndsWith(":3:1: listen = 0 -> 1"), EndsWith(":5:1: flags S. -> FS."),
                  EndsWith(":5:1: seq 0 -> 1"), EndsWith(":5:1: length 0 -> 1"),
                  EndsWith(":5:1: ack 1 -> 2"), EndsWith(":5:1: options: last option dropped"),
                  EndsWith(":7:1: accept = 4 -> -1 EAGAIN"), EndsWith(":8:1: getsockopt = 0 -> 1"),
                  EndsWith(":8:1: getsockopt value [0] -> [1]"), EndsWith(":10:1: read = 10 -> 11"),
                  EndsWith(":11:1: connect errno EISCONN -> EINVAL"),
                  EndsWith(":12:1: assert tcpi_state == TCP_ESTABLISHED -> !="),
                  EndsWith(":12:1: assert tcpi_unacked <= 0 -> >"),
                  EndsWith(":13:1: flags . -> F."), EndsWith(":13:1: seq 1 -> 2"),
                  EndsWith(":13:1: length 0 -> 1"), EndsWith(":13:1: ack 11 -> 12"),
                  EndsWith(":13:1: win 65525 -> 65524"), EndsWith(":13:1: options none -> <nop>")));
}

TEST(Mutate, EveryMutantOfAPassingCaseFails) {
  const Script original = parse(kCase);
  std::vector<int> isn_lines;
  {
    target::InprocTarget t;
    const CaseResult r = run_script(original, t, {});
    ASSERT_EQ(r.verdict, CaseResult::Verdict::kPass) << r.message;
    isn_lines = r.isn_lines;
  }
  EXPECT_THAT(isn_lines, ElementsAre(5));
  for (const Mutant& m : mutants(original, isn_lines)) {
    target::InprocTarget t;
    const CaseResult r = run_script(m.script, t, {});
    EXPECT_EQ(r.verdict, CaseResult::Verdict::kFail) << m.description << " survived";
  }
}

TEST(Mutate, LeavesUncheckedLinesAlone) {
  // Wildcard options, "= ..." results, inbound segments and silence offer nothing to alter
  // beyond the outbound line's own fields.
  const auto ms = mutants(parse(R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = ...
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <...>
+1 > none
)"));
  EXPECT_THAT(descriptions(ms), ElementsAre(EndsWith("flags S. -> FS."), EndsWith("seq 0 -> 1"),
                                            EndsWith("length 0 -> 1"), EndsWith("ack 1 -> 2")));
}

TEST(Mutate, ChecksTheIpFieldsAnOutboundLineNames) {
  // [src, dst, tos, ttl] on an outbound line are expectations; on an inbound line they are not.
  const Script original = parse(R"(0 socket(..., SOCK_STREAM, IPPROTO_TCP) = ...
+0 setsockopt(3, IPPROTO_IP, IP_TOS, [8], 4) = ...
+0 bind(3, {sin_port=htons(8080), sin_addr=inet_addr("192.168.0.3")}, 16) = ...
+0 listen(3, 1) = ...
+0 < S 0:0(0) win 65535 <mss 1460> [dst 192.168.0.3, ttl 9]
+0 > S. 0:0(0) ack 1 <...> [src 192.168.0.3, dst 192.168.0.2, tos 8, ttl 64]
)");
  std::vector<std::string> ip;
  for (const Mutant& m : mutants(original)) {
    const std::string what = m.description.substr(m.description.rfind(": ") + 2, 4);
    if (what != "src " && what != "dst " && what != "tos " && what != "ttl ") continue;
    ip.push_back(m.description);
    target::InprocTarget t;
    EXPECT_EQ(run_script(m.script, t, {}).verdict, CaseResult::Verdict::kFail)
        << m.description << " survived";
  }
  EXPECT_THAT(ip, ElementsAre(EndsWith(":6:1: src 192.168.0.3 -> 192.168.0.4"),
                              EndsWith(":6:1: dst 192.168.0.2 -> 192.168.0.3"),
                              EndsWith(":6:1: tos 8 -> 12"), EndsWith(":6:1: ttl 64 -> 65")));
  target::InprocTarget t;
  EXPECT_EQ(run_script(original, t, {}).verdict, CaseResult::Verdict::kPass);
}

}  // namespace
}  // namespace synack::script
