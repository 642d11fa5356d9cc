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
  EXPECT_TRUE(packet(s, 3).attributes.bad_checksum);
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

TEST(Parser, ReadsTrailingAttributes) {
  const Script s = parse_ok(
      R"(0 < S 0:0(0) win 1 <mss 1460> [sport 40001, src 10.0.0.9, dst 192.168.0.1, tos 0x10, ttl 1, ipopts 0x9404]
+0 > S. 0:0(0) ack 1 <...> [sport 40001, dst 10.0.0.9, ttl 64]
+0 < . 1:1(0) ack 1 win 1 [ bad  tcp  csum , sport 40002 ]
+0 < . 1:1(0) ack 1 win 1 [bad tcp csum]
)");
  const Attributes& in = packet(s, 0).attributes;
  EXPECT_EQ(in.sport, 40001);
  EXPECT_EQ(in.src, 0x0a000009U);
  EXPECT_EQ(in.dst, 0xc0a80001U);
  EXPECT_EQ(in.tos, 0x10);
  EXPECT_EQ(in.ttl, 1);
  EXPECT_EQ(in.ip_options, (std::vector<std::uint8_t>{0x94, 0x04}));
  EXPECT_FALSE(in.bad_checksum);
  const Attributes& out = packet(s, 1).attributes;
  EXPECT_EQ(out.sport, 40001);
  EXPECT_EQ(out.dst, 0x0a000009U);
  EXPECT_FALSE(out.src);
  EXPECT_FALSE(out.tos);
  EXPECT_EQ(out.ttl, 64);
  EXPECT_TRUE(packet(s, 2).attributes.bad_checksum);
  EXPECT_EQ(packet(s, 2).attributes.sport, 40002);
  EXPECT_TRUE(packet(s, 3).attributes.bad_checksum);
  EXPECT_FALSE(packet(s, 3).attributes.sport);
}

TEST(Parser, ReadsRawOptions) {
  const Script s = parse_ok(R"(0 < S 0:0(0) win 1 <mss 1460, raw 0xfe04abcd, nop>
+0 > S. 0:0(0) ack 1 <raw fe04ABCD,raw 00>
)");
  const PacketLine& in = packet(s, 0);
  ASSERT_EQ(in.options.size(), 3U);
  EXPECT_EQ(in.options[1].kind, OptionSpec::Kind::kRaw);
  EXPECT_EQ(in.options[1].raw, (std::vector<std::uint8_t>{0xfe, 0x04, 0xab, 0xcd}));
  EXPECT_EQ(in.options[2].kind, OptionSpec::Kind::kNop);
  const PacketLine& out = packet(s, 1);
  EXPECT_EQ(out.options[0].raw, (std::vector<std::uint8_t>{0xfe, 0x04, 0xab, 0xcd}));
  EXPECT_EQ(out.options[1].raw, (std::vector<std::uint8_t>{0x00}));
}

TEST(Parser, ReadsIcmpLines) {
  const Script s = parse_ok(R"(0 < icmp unreachable port_unreachable [1:1001(1000)]
+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)] [sport 40001, src 10.0.0.254]
+0 < icmp time_exceeded ttl_exceeded [0:0(0)]
+0 < icmp 12 0 [5:5(0)]
+0 < icmp source_quench 0 [1:2(1)]
)");
  const auto& unreach = std::get<IcmpLine>(s.lines[0].event);
  EXPECT_EQ(unreach.type, 3);
  EXPECT_EQ(unreach.code, 3);
  EXPECT_FALSE(unreach.mtu);
  EXPECT_EQ(unreach.seq_start, 1U);
  EXPECT_EQ(unreach.seq_end, 1001U);
  EXPECT_EQ(unreach.payload_length, 1000U);
  const auto& frag = std::get<IcmpLine>(s.lines[1].event);
  EXPECT_EQ(frag.code, 4);
  EXPECT_EQ(frag.mtu, 1200);
  EXPECT_EQ(frag.attributes.sport, 40001);
  EXPECT_EQ(frag.attributes.src, 0x0a0000feU);
  EXPECT_EQ(std::get<IcmpLine>(s.lines[2].event).type, 11);
  EXPECT_EQ(std::get<IcmpLine>(s.lines[2].event).code, 0);
  EXPECT_EQ(std::get<IcmpLine>(s.lines[3].event).type, 12);
  EXPECT_EQ(std::get<IcmpLine>(s.lines[4].event).type, 4);
}

TEST(Parser, ReadsIsnPseudoFields) {
  const Script s = parse_ok(
      "0 %{ assert isn_gap(40001, 40002) > 100000 and isn_advance( 40001 ) >= 240000 and "
      "tcpi_state == TCP_LISTEN }%\n");
  const auto& a = std::get<AssertLine>(s.lines[0].event);
  ASSERT_EQ(a.all.size(), 3U);
  EXPECT_EQ(a.all[0].field, "isn_gap");
  EXPECT_EQ(a.all[0].ports, (std::vector<std::uint16_t>{40001, 40002}));
  EXPECT_EQ(a.all[0].text, "isn_gap(40001, 40002)");
  EXPECT_EQ(a.all[0].value, "100000");
  EXPECT_EQ(a.all[1].field, "isn_advance");
  EXPECT_EQ(a.all[1].ports, (std::vector<std::uint16_t>{40001}));
  EXPECT_EQ(a.all[1].text, "isn_advance(40001)");
  EXPECT_EQ(a.all[2].text, "tcpi_state");
  EXPECT_TRUE(a.all[2].ports.empty());
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
        BadCase{"optional_flag_twice", "0 > PP?. 0:0(0) ack 1\n", 1, 6, "flag 'P' twice"},
        BadCase{"optional_flag_inbound", "0 < P?. 1:1(0) ack 1 win 1\n", 1, 6,
                "an optional flag ('P?') is for outbound lines only"},
        BadCase{"optional_ack", "0 > P.? 1:1(0) ack 1\n", 1, 7, "flag '.' cannot be optional"},
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
        BadCase{"blocking_packet", "0...1 > S 0:0(0) <...>\n", 1, 1, "for syscalls only"},
        // Trailing attributes.
        BadCase{"unknown_attribute", "0 < S 0:0(0) win 1 [colour red]\n", 1, 21,
                "unknown attribute 'colour' (expected sport, src, dst, tos, ttl, ipopts"},
        BadCase{"attribute_twice", "0 < S 0:0(0) win 1 [sport 1, tos 2, sport 3]\n", 1, 37,
                "'sport' given twice"},
        BadCase{"sport_zero", "0 < S 0:0(0) win 1 [sport 0]\n", 1, 27,
                "sport 0 is out of range (1 to 65535)"},
        BadCase{"sport_too_big", "0 > S 0:0(0) [sport 65536]\n", 1, 21, "out of range"},
        BadCase{"bad_address", "0 < S 0:0(0) win 1 [src 10.0.0]\n", 1, 25,
                "expected the source address as an IPv4 address like 192.0.2.1, got '10.0.0]'"},
        BadCase{"tos_too_big", "0 < S 0:0(0) win 1 [tos 256]\n", 1, 25, "tos 256 is out of range"},
        BadCase{"ttl_not_a_number", "0 < S 0:0(0) win 1 [ttl x]\n", 1, 25, "expected ttl"},
        BadCase{"ipopts_outbound", "0 > S 0:0(0) <...> [ipopts 01]\n", 1, 21,
                "'ipopts' is for inbound (<) lines only"},
        BadCase{
            "ipopts_too_long",
            "0 < S 0:0(0) win 1 [ipopts 0x"
            "0101010101010101010101010101010101010101010101010101010101010101010101010101010101]\n",
            1, 28, "ipopts is 41 bytes; at most 40 fit"},
        BadCase{"ipopts_odd_digits", "0 < S 0:0(0) win 1 [ipopts 0x123]\n", 1, 28,
                "ipopts has an odd number of hex digits (3)"},
        BadCase{"ipopts_not_hex", "0 < S 0:0(0) win 1 [ipopts 0xzz]\n", 1, 28,
                "expected ipopts as hex bytes like 0xfe04abcd, got '0xzz'"},
        BadCase{"bad_csum_outbound", "0 > S 0:0(0) [bad tcp csum]\n", 1, 15,
                "'bad tcp csum' is for inbound (<) lines only"},
        BadCase{"bad_udp_csum", "0 < S 0:0(0) win 1 [bad udp csum]\n", 1, 21,
                "expected 'bad tcp csum'"},
        BadCase{"unclosed_attributes", "0 < S 0:0(0) win 1 [sport 1\n", 1, 28,
                "',' or ']' after an attribute"},
        BadCase{"attribute_then_garbage", "0 < S 0:0(0) win 1 [sport 1] x\n", 1, 30,
                "expected the end of the packet line"},
        // Raw TCP options.
        BadCase{"raw_without_bytes", "0 < S 0:0(0) win 1 <raw>\n", 1, 24,
                "expected the raw option as hex bytes"},
        BadCase{"raw_odd_digits", "0 < S 0:0(0) win 1 <nop, raw fe0>\n", 1, 30,
                "the raw option has an odd number of hex digits (3)"},
        BadCase{"options_too_long",
                "0 < S 0:0(0) win 1 <mss 1460, TS val 1 ecr 0, raw 0x"
                "000102030405060708090a0b0c0d0e0f101112131415161718191a>\n",
                1, 21, "the TCP options take 41 bytes; at most 40 fit"},
        // ICMP.
        BadCase{"icmp_unknown_type", "0 < icmp echo 0 [1:1(0)]\n", 1, 10,
                "unknown ICMP type 'echo'"},
        BadCase{"icmp_code_of_another_type", "0 < icmp time_exceeded port_unreachable [1:1(0)]\n",
                1, 24,
                "'port_unreachable' is not a code of ICMP time_exceeded (expected ttl_exceeded, "
                "frag_reassembly_time_exceeded or a number)"},
        BadCase{"icmp_code_too_big", "0 < icmp 3 300 [1:1(0)]\n", 1, 12,
                "ICMP code 300 does not fit 8 bits"},
        BadCase{"icmp_mtu_without_frag_needed",
                "0 < icmp unreachable port_unreachable mtu 1200 [1:1(0)]\n", 1, 39,
                "'mtu' goes with 'unreachable frag_needed' only"},
        BadCase{"icmp_without_quote", "0 < icmp unreachable port_unreachable\n", 1, 38,
                "expected '[start:end(length)]', the segment the ICMP message quotes"},
        BadCase{"icmp_quote_disagrees", "0 < icmp unreachable port_unreachable [1:10(5)]\n", 1, 47,
                "start:end(length) disagree"},
        BadCase{"icmp_bad_csum", "0 < icmp unreachable port_unreachable [1:1(0)] [bad tcp csum]\n",
                1, 49, "'bad tcp csum' is for TCP segments, not ICMP"},
        BadCase{"icmp_outbound", "0 > icmp unreachable port_unreachable [1:1(0)]\n", 1, 5,
                "ICMP from the target cannot be expected"},
        BadCase{"icmp_any_time", "* < icmp unreachable port_unreachable [1:1(0)]\n", 1, 1,
                "outbound (>) packets only"},
        // ISN pseudo-fields.
        BadCase{"isn_gap_one_port", "0 %{ assert isn_gap(40001) > 1 }%\n", 1, 26,
                "expected ',' and a second port"},
        BadCase{"isn_advance_symbol", "0 %{ assert isn_advance(40001) > TCP_LISTEN }%\n", 1, 34,
                "expected a number to compare isn_advance(40001) with"},
        BadCase{"isn_port_zero", "0 %{ assert isn_advance(0) > 1 }%\n", 1, 25,
                "a harness port 0 is out of range"},
        BadCase{"isn_without_parens", "0 %{ assert isn_gap > 1 }%\n", 1, 21,
                "expected '(' after isn_gap"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Parser, NumbersTakeOneSign) {
  // Found while writing script_fuzzer: from_chars read a second '-' (and one after 0x), so "--5"
  // was 5 and "--9223372036854775808" negated INT64_MIN (undefined behaviour; UBSan aborts).
  for (const char* n : {"--5", "--9223372036854775808", "-0x-5"}) {
    const ScriptError e = parse_err(std::string("0 read(3, ..., ") + n + ") = 0\n");
    EXPECT_EQ(e.location.to_string(), "t.pkt:1:16") << n;
    EXPECT_THAT(e.message, HasSubstr("expected an argument")) << n;
  }
  // "0x" alone is a symbol; the '-' after it is then out of place.
  const ScriptError hex = parse_err("0 read(3, ..., 0x-5) = 0\n");
  EXPECT_EQ(hex.location.to_string(), "t.pkt:1:18");
  EXPECT_THAT(hex.message, HasSubstr("got '-5)'"));
  const Script s = parse_ok("0 read(3, ..., -5) = -0x10\n");
  ASSERT_EQ(s.lines.size(), 1U);
  const auto& call = std::get<SyscallLine>(s.lines[0].event);
  EXPECT_EQ(call.args.at(2).number, -5);
  EXPECT_EQ(call.result, -16);
}

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
+0 < . 1:1(0) ack 1 win 9 <mss 1460, raw 0xfe04abcd> [sport 40001, src 10.0.0.1, tos 0x10, ipopts 0x9404]
+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)] [sport 40001, ttl 1]
+0 %{ assert isn_gap(40001, 40002) > 1 and isn_advance(40001) < 300000 }%
)";
  std::uint32_t rng = 12345;
  auto next = [&] { return rng = rng * 1103515245U + 12345U; };
  const std::string alphabet =
      "0123456789+-.~*<>:()[]{},=|%/\"\\ \n\tSFPR.EWUackwinTSvalecrxicmpsportrawisn_gap";
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
