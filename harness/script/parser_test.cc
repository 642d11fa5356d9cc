#include "harness/script/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace synack::script {
namespace {

using ::testing::HasSubstr;

Script parse_ok(std::string_view text) {
  auto r = parse_script(text, "t.pkt");
  if (const auto* e = std::get_if<ScriptError>(&r)) {
    ADD_FAILURE() << e->to_string();
    return {};
  }
  return std::get<Script>(r);
}

ScriptError parse_err(std::string_view text) {
  auto r = parse_script(text, "t.pkt");
  if (std::holds_alternative<Script>(r)) {
    ADD_FAILURE() << "parsed, but should not have: " << text;
    return {};
  }
  return std::get<ScriptError>(r);
}

const PacketLine& packet(const Script& s, std::size_t i) {
  return std::get<PacketLine>(s.lines.at(i).event);
}

TEST(Parser, ReadsAPassiveOpenScript) {
  const Script s = parse_ok(R"(// A passive open.
--tolerance_usecs=10000
0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0  bind(3, ..., ...) = 0
+0  listen(3, 1) = 0
+0  < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0  > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 257
+0  accept(3, ..., ...) = 4
)");
  ASSERT_EQ(s.options.size(), 1U);
  EXPECT_EQ(s.options[0].name, "tolerance_usecs");
  EXPECT_EQ(s.options[0].value, "10000");
  ASSERT_EQ(s.lines.size(), 8U);
  const auto& sock = std::get<SyscallLine>(s.lines[0].event);
  EXPECT_EQ(sock.name, "socket");
  EXPECT_EQ(sock.result, 3);
  ASSERT_EQ(sock.args.size(), 3U);
  EXPECT_EQ(sock.args[0].kind, Arg::Kind::kEllipsis);
  EXPECT_EQ(sock.args[1].symbols, std::vector<std::string>{"SOCK_STREAM"});
  const auto& opt = std::get<SyscallLine>(s.lines[1].event);
  EXPECT_EQ(opt.args[3].kind, Arg::Kind::kArray);
  EXPECT_EQ(opt.args[3].elements[0].number, 1);

  const PacketLine& syn = packet(s, 4);
  EXPECT_EQ(syn.direction, Direction::kInbound);
  EXPECT_EQ(syn.flags, 0x02);
  EXPECT_EQ(syn.window, 32792U);
  ASSERT_EQ(syn.options.size(), 6U);
  EXPECT_EQ(syn.options[0].kind, OptionSpec::Kind::kMss);
  EXPECT_EQ(syn.options[0].value, 1000U);
  EXPECT_EQ(syn.options[5].kind, OptionSpec::Kind::kWscale);
  EXPECT_EQ(syn.options[5].value, 7U);

  const PacketLine& synack = packet(s, 5);
  EXPECT_EQ(synack.direction, Direction::kOutbound);
  EXPECT_EQ(synack.flags, 0x12);
  EXPECT_EQ(synack.ack, 1U);
  EXPECT_TRUE(synack.options_any);
  EXPECT_FALSE(synack.window);

  EXPECT_EQ(s.lines[6].time.kind, TimeSpec::Kind::kRelative);
  EXPECT_EQ(s.lines[6].time.start_us, 100000);
  EXPECT_EQ(s.lines[6].location.line, 9);
}

TEST(Parser, ReadsTimesOfEveryForm) {
  const Script s = parse_ok(R"(0.250 > . 1:1(0) ack 1
* > . 1:1(0) ack 1
+0.1~+0.3 > . 1:1(0) ack 1
1.0~1.5 > . 1:1(0) ack 1
+0...0.25 read(4, ..., 10) = 10
2.5...+1 read(4, ..., 10) = 10
)");
  EXPECT_EQ(s.lines[0].time.kind, TimeSpec::Kind::kAbsolute);
  EXPECT_EQ(s.lines[0].time.start_us, 250000);
  EXPECT_EQ(s.lines[1].time.kind, TimeSpec::Kind::kAny);
  EXPECT_EQ(s.lines[2].time.range_end_us, 300000);
  EXPECT_TRUE(s.lines[2].time.range_end_relative);
  EXPECT_EQ(s.lines[3].time.range_end_us, 1500000);
  EXPECT_FALSE(s.lines[3].time.range_end_relative);
  EXPECT_EQ(s.lines[4].time.blocking_end_us, 250000);
  EXPECT_EQ(s.lines[5].time.blocking_end_us, 1000000);
  EXPECT_TRUE(s.lines[5].time.blocking_end_relative);
}

TEST(Parser, ReadsPacketDetails) {
  const Script s = parse_ok(R"(0 < P. 1:11(10) ack 1 win 257 urg 3 <nop,nop,TS val 100 ecr 7>
+0 > . 1:1(0) ack 11 win 502 <nop,nop,sack 20:30 40:50,eol>
+0 < R 11:11(0) win 0
+0 < - 11:11(0) win 0 [bad tcp csum]
)");
  const PacketLine& data = packet(s, 0);
  EXPECT_EQ(data.seq_start, 1U);
  EXPECT_EQ(data.seq_end, 11U);
  EXPECT_EQ(data.payload_length, 10U);
  EXPECT_EQ(data.urgent_pointer, 3U);
  EXPECT_EQ(data.options[2].kind, OptionSpec::Kind::kTimestamp);
  EXPECT_EQ(data.options[2].ts_val, 100U);
  EXPECT_EQ(data.options[2].ts_ecr, 7U);
  const PacketLine& sack = packet(s, 1);
  ASSERT_EQ(sack.options[2].sack_blocks.size(), 2U);
  EXPECT_EQ(sack.options[2].sack_blocks[1], std::make_pair(40U, 50U));
  EXPECT_EQ(sack.window, 502U);
  EXPECT_EQ(packet(s, 2).flags, 0x04);
  EXPECT_EQ(packet(s, 3).flags, 0);
  EXPECT_TRUE(packet(s, 3).bad_checksum);
}

TEST(Parser, ReadsSyscallResultsWithErrno) {
  const Script s = parse_ok(R"(0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
+0 poll([{fd=3, events=POLLIN, revents=POLLIN}], 1, 0) = 1
+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("192.0.2.1")}, 16) = 0
+0 close(3) = ...
)");
  const auto& c = std::get<SyscallLine>(s.lines[0].event);
  EXPECT_EQ(c.result, -1);
  EXPECT_EQ(c.errno_name, "EINPROGRESS");
  const auto& fcntl = std::get<SyscallLine>(s.lines[1].event);
  EXPECT_EQ(fcntl.args[2].symbols, (std::vector<std::string>{"O_RDWR", "O_NONBLOCK"}));
  const auto& gso = std::get<SyscallLine>(s.lines[2].event);
  EXPECT_EQ(gso.args[3].elements[0].symbols[0], "ECONNREFUSED");
  const auto& poll = std::get<SyscallLine>(s.lines[3].event);
  ASSERT_EQ(poll.args[0].elements[0].fields.size(), 3U);
  EXPECT_EQ(poll.args[0].elements[0].fields[1].name, "events");
  const auto& bind = std::get<SyscallLine>(s.lines[4].event);
  EXPECT_EQ(bind.args[1].fields[1].value.symbols[0], "htons(8080)");
  EXPECT_FALSE(std::get<SyscallLine>(s.lines[5].event).result);
}

TEST(Parser, ReadsExtensions) {
  const Script s = parse_ok(R"(0 > none
+1 %{ assert tcpi_state == TCP_TIME_WAIT and tcpi_rto >= 200000 }%
+0 %{ assert tcpi_ca_state == 0
   and tcpi_unacked == 0 }%
)");
  EXPECT_TRUE(std::holds_alternative<SilenceLine>(s.lines[0].event));
  const auto& a = std::get<AssertLine>(s.lines[1].event);
  ASSERT_EQ(a.all.size(), 2U);
  EXPECT_EQ(a.all[0].field, "tcpi_state");
  EXPECT_EQ(a.all[0].value, "TCP_TIME_WAIT");
  EXPECT_EQ(a.all[1].op, ">=");
  EXPECT_EQ(std::get<AssertLine>(s.lines[2].event).all.size(), 2U);
}

TEST(Parser, CommentsKeepLineNumbers) {
  const Script s = parse_ok("/* a\n   b */ 0 close(3) = 0 // trailing\n\n+0 close(4) = 0\n");
  ASSERT_EQ(s.lines.size(), 2U);
  EXPECT_EQ(s.lines[0].location.line, 2);
  EXPECT_EQ(s.lines[1].location.line, 4);
}

struct BadCase {
  const char* name;
  const char* text;
  int line;
  int column;
  const char* message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class ParserError : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParserError, NamesWhereAndWhat) {
  const ScriptError e = parse_err(GetParam().text);
  EXPECT_EQ(e.location.file, "t.pkt");
  EXPECT_EQ(e.location.line, GetParam().line) << e.to_string();
  EXPECT_EQ(e.location.column, GetParam().column) << e.to_string();
  EXPECT_THAT(e.message, HasSubstr(GetParam().message)) << e.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    EveryMistake, ParserError,
    ::testing::Values(
        BadCase{"no_time", "< S 0:0(0) win 1\n", 1, 1, "expected a time"},
        BadCase{"bad_flags", "0 < X 0:0(0) win 1\n", 1, 5, "expected TCP flags"},
        BadCase{"repeated_flag", "0 < SS 0:0(0) win 1\n", 1, 6, "flag 'S' twice"},
        BadCase{"no_seq", "0 < S win 1\n", 1, 7, "expected a sequence number"},
        BadCase{"seq_len_disagree", "0 < P. 1:5(3) ack 1 win 1\n", 1, 14, "disagree"},
        BadCase{"ack_flag_without_ack", "0 < . 1:1(0) win 1\n", 1, 19, "expected 'ack N'"},
        BadCase{"inbound_without_win", "0 < S 0:0(0)\n", 1, 13, "inbound packets need 'win N'"},
        BadCase{"unknown_option", "0 < S 0:0(0) win 1 <mss 1,foo>\n", 1, 27,
                "unknown TCP option 'foo'"},
        BadCase{"unclosed_options", "0 < S 0:0(0) win 1 <mss 1\n", 1, 26, "',' or '>'"},
        BadCase{"window_too_big", "0 < S 0:0(0) win 70000\n", 1, 18, "does not fit 16 bits"},
        BadCase{"inbound_any_time", "* < S 0:0(0) win 1\n", 1, 1, "outbound (>) packets only"},
        BadCase{"inbound_any_options", "0 < S 0:0(0) win 1 <...>\n", 1, 25, "outbound (>)"},
        BadCase{"syscall_no_result", "0 close(3)\n", 1, 11, "'= result'"},
        BadCase{"errno_without_minus_one", "0 close(3) = 0 EBADF\n", 1, 21, "goes with '= -1'"},
        BadCase{"garbage_after_packet", "0 > S 0:0(0) <...> extra\n", 1, 20,
                "expected the end of the packet line"},
        BadCase{"time_backwards", "1 close(3) = 0\n0.5 close(4) = 0\n", 2, 1, "backwards"},
        BadCase{"unterminated_comment", "0 close(3) = 0\n/* open\n", 2, 1, "unterminated"},
        BadCase{"assert_python", "0 %{ print(1) }%\n", 1, 6, "expected 'assert'"},
        BadCase{"assert_not_tcpi", "0 %{ assert x == 1 }%\n", 1, 13, "unsupported in %{ }%"},
        BadCase{"unterminated_assert", "0 %{ assert tcpi_state == 1\n", 1, 1, "unterminated %{"},
        BadCase{"blocking_packet", "0...1 > S 0:0(0) <...>\n", 1, 1, "for syscalls only"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Parser, UnreadableFileIsAnError) {
  auto r = parse_script_file("/nonexistent/x.pkt");
  ASSERT_TRUE(std::holds_alternative<ScriptError>(r));
  EXPECT_EQ(std::get<ScriptError>(r).to_string(),
            "/nonexistent/x.pkt:0:0: error: cannot read the file");
}

}  // namespace
}  // namespace synack::script

namespace synack::script {
namespace {

TEST(Parser, NeverCrashesOnMangledScripts) {
  // Random byte edits of a real script: every result is a Script or a ScriptError with a
  // location inside the text (the script fuzzer of the fuzzing issue goes further).
  const std::string base = R"(--tolerance_usecs=10000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = 0
+0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7,sack 1:2>
+0.1~+0.2 > S. 0:0(0) ack 1 <...>
+0...0.2 read(4, ..., 1000) = -1 EAGAIN (Resource temporarily unavailable)
+0 poll([{fd=4, events=POLLIN|POLLOUT, revents=0}], 1, 0) = 0
/* comment */ +0 %{ assert tcpi_state == TCP_ESTABLISHED and tcpi_rto > 0 }%
)";
  std::uint32_t rng = 12345;
  auto next = [&] { return rng = rng * 1103515245U + 12345U; };
  const std::string alphabet = "0123456789+-.~*<>:()[]{},=|%/\"\\ \n\tSFPR.EWUackwinTSvalecr";
  for (int i = 0; i < 20000; ++i) {
    std::string s = base;
    for (int edits = 1 + static_cast<int>(next() % 4); edits > 0; --edits) {
      const std::size_t at = next() % s.size();
      switch (next() % 3) {
        case 0:
          s[at] = alphabet[next() % alphabet.size()];
          break;
        case 1:
          s.erase(at, 1 + next() % 8);
          break;
        default:
          s.insert(at, 1, alphabet[next() % alphabet.size()]);
          break;
      }
    }
    auto r = parse_script(s, "m.pkt");
    if (const auto* e = std::get_if<ScriptError>(&r)) {
      ASSERT_GE(e->location.line, 1) << s;
      ASSERT_FALSE(e->message.empty());
    }
  }
}

}  // namespace
}  // namespace synack::script
