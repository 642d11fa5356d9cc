#include "harness/wire/tcp.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "harness/wire/checksum.h"
#include "harness/wire/test_util.h"

namespace synack::wire {
namespace {

namespace f = tcp_flags;
using testing::from_hex;
using testing::make_segment;

// Builds a packet, replaces its TCP option space with `space` (whatever it holds), and fixes
// the checksums: how malformed option layouts reach the parser.
Bytes with_option_space(const Bytes& space) {
  TcpPacket p = make_segment(f::kSyn);
  p.tcp.option_padding = space;
  return emit(p);
}

TEST(TcpEmit, FillsDataOffsetAndAValidChecksum) {
  TcpPacket p = make_segment(f::kSyn, 100);
  p.tcp.options = {OptMss{1460}, OptWindowScale{7}};  // 7 bytes: padded to 8
  const Bytes b = emit(p);
  ASSERT_EQ(b.size(), 20U + 28U);
  EXPECT_EQ(b[20 + 12] >> 4, 7);
  auto back = parse_tcp_packet(b);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(back->ip_checksum_ok);
  EXPECT_TRUE(back->tcp_checksum_ok);
  // The padding byte is an EOL, which the parser keeps as an option.
  EXPECT_THAT(back->tcp.options, ::testing::ElementsAre(OptMss{1460}, OptWindowScale{7}, OptEol{}));
}

TEST(TcpEmit, ChecksumCoversAnOddPayloadAndThePseudoHeader) {
  TcpPacket p = make_segment(f::kPsh | f::kAck, 1, 1);
  p.payload = {'a', 'b', 'c'};
  const Bytes b = emit(p);
  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, p.ip.src.value, p.ip.dst.value, kIpProtoTcp, 23);
  acc.add(ByteSpan(b).subspan(20));
  EXPECT_EQ(acc.finish(), 0);
  // The pseudo-header matters: the same segment to another address no longer verifies.
  Bytes moved = b;
  moved[19] = 9;
  moved[10] = moved[11] = 0;
  store_be16(moved, 10, internet_checksum(ByteSpan(moved).first(20)));
  auto parsed = parse_tcp_packet(moved);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->ip_checksum_ok);
  EXPECT_FALSE(parsed->tcp_checksum_ok);
}

TEST(TcpEmit, HonoursAnExplicitBadChecksumAndDataOffset) {
  TcpPacket p = make_segment(f::kAck);
  p.tcp.checksum = 0x1234;
  p.tcp.data_offset = 4;
  const Bytes b = emit(p);
  EXPECT_EQ(load_be16(b, 20 + 16), 0x1234);
  EXPECT_EQ(b[20 + 12] >> 4, 4);
}

TEST(TcpEmit, RefusesOptionsThatDoNotFit) {
  TcpPacket p = make_segment(f::kAck);
  p.tcp.options.assign(11, OptMss{1});  // 44 bytes
  EXPECT_THROW(emit(p), std::length_error);
  // Appending to a buffer: an error leaves what was there, and nothing more.
  Bytes out = {1, 2, 3};
  EXPECT_THROW(emit(p, out), std::length_error);
  EXPECT_EQ(out, (Bytes{1, 2, 3}));
  p.tcp.options.clear();
  p.payload.assign(0xffff, 0);  // too long for an IPv4 packet
  EXPECT_THROW(emit(p, out), std::length_error);
  EXPECT_EQ(out, (Bytes{1, 2, 3}));
}

TEST(TcpEmit, AppendsAfterWhatTheBufferHolds) {
  TcpPacket p = make_segment(f::kAck, 1000, 2000);
  p.payload = {'d', 'a', 't', 'a'};
  Bytes out = {9, 9};
  emit(p, out);
  const Bytes alone = emit(p);
  ASSERT_EQ(out.size(), 2 + alone.size());
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), out.begin() + 2));
  const auto parsed = parse_tcp_packet(alone);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->tcp_checksum_ok);
  EXPECT_EQ(parsed->tcp.seq.raw(), 1000U);
}

TEST(TcpParse, ReadsEveryHeaderField) {
  TcpPacket p = make_segment(f::kAck | f::kUrg | f::kEce, 0xfffffff0U, 7);
  p.tcp.window = 512;
  p.tcp.urgent_pointer = 3;
  p.tcp.reserved = 0x9;
  p.payload = {1, 2, 3, 4};
  auto back = parse_tcp_packet(emit(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->tcp.src_port, 1234);
  EXPECT_EQ(back->tcp.dst_port, 80);
  EXPECT_EQ(back->tcp.seq.raw(), 0xfffffff0U);
  EXPECT_EQ(back->tcp.ack.raw(), 7U);
  EXPECT_EQ(back->tcp.flags, f::kAck | f::kUrg | f::kEce);
  EXPECT_EQ(back->tcp.reserved, 0x9);
  EXPECT_EQ(back->tcp.window, 512);
  EXPECT_EQ(back->tcp.urgent_pointer, 3);
  EXPECT_EQ(back->payload, p.payload);
  EXPECT_EQ(*back->tcp.data_offset, 5);
}

TEST(TcpParse, DecodesEveryKnownOption) {
  TcpPacket p = make_segment(f::kSyn | f::kAck);
  p.tcp.options = {OptMss{1460}, OptSackPermitted{},           OptTimestamps{1, 0},
                   OptNop{},     OptWindowScale{14},           OptNop{},
                   OptNop{},     OptSack{{{Seq(10), Seq(20)}}}};
  auto back = parse_tcp_packet(emit(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->tcp.options, p.tcp.options);
  EXPECT_TRUE(back->tcp.option_padding.empty());
  ASSERT_NE(back->tcp.find<OptTimestamps>(), nullptr);
  EXPECT_EQ(back->tcp.find<OptTimestamps>()->val, 1U);
}

TEST(TcpParse, DecodesUpToFourSackBlocks) {
  TcpPacket p = make_segment(f::kAck);
  OptSack sack;
  for (std::uint32_t i = 0; i < 4; ++i) sack.blocks.push_back({Seq(i * 100), Seq(i * 100 + 50)});
  p.tcp.options = {OptNop{}, OptNop{}, sack};  // 2 + 34 = 36 bytes
  auto back = parse_tcp_packet(emit(p));
  ASSERT_TRUE(back);
  ASSERT_NE(back->tcp.find<OptSack>(), nullptr);
  EXPECT_EQ(back->tcp.find<OptSack>()->blocks, sack.blocks);
}

TEST(TcpParse, KeepsKnownKindsWithTheWrongLengthAsRawBytes) {
  // MSS of length 3, WS of length 4, SACK-permitted of length 3, SACK of length 6, TS of 8.
  const Bytes space = from_hex("020305 03040700 040300 0506aabbccdd 0808010203040506 00");
  auto p = parse_tcp_packet(with_option_space(space));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_THAT(p->tcp.options,
              ::testing::ElementsAre(OptRaw{2, {0x05}}, OptRaw{3, {0x07, 0x00}}, OptRaw{4, {0x00}},
                                     OptRaw{5, {0xaa, 0xbb, 0xcc, 0xdd}},
                                     OptRaw{8, {1, 2, 3, 4, 5, 6}}, OptEol{}));
  EXPECT_EQ(p->tcp.option_padding, (Bytes{0x00, 0x00, 0x00}));  // zero fill to 28 bytes
}

TEST(TcpParse, KeepsUnknownKindsByteExact) {
  const Bytes space = from_hex("fd05010203 fe02 1e03ff 01");
  const Bytes packet = with_option_space(space);
  auto p = parse_tcp_packet(packet);
  ASSERT_TRUE(p);
  // 11 bytes of options; the builder's zero fill to 12 reads back as an EOL.
  EXPECT_THAT(p->tcp.options, ::testing::ElementsAre(OptRaw{253, {1, 2, 3}}, OptRaw{254, {}},
                                                     OptRaw{30, {0xff}}, OptNop{}, OptEol{}));
  EXPECT_EQ(emit(*p), packet);
}

TEST(TcpParse, StopsAtEolAndKeepsWhatFollowsAsPadding) {
  const Bytes space = from_hex("0100dead beefcafe");
  const Bytes packet = with_option_space(space);
  auto p = parse_tcp_packet(packet);
  ASSERT_TRUE(p);
  EXPECT_THAT(p->tcp.options, ::testing::ElementsAre(OptNop{}, OptEol{}));
  EXPECT_EQ(p->tcp.option_padding, from_hex("deadbeefcafe"));
  EXPECT_EQ(emit(*p), packet);
}

TEST(TcpParse, FlagsABadChecksumWithoutRejecting) {
  TcpPacket p = make_segment(f::kRst);
  p.tcp.checksum = 0;
  auto back = parse_tcp_packet(emit(p));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->tcp_checksum_ok);
  EXPECT_TRUE(back->ip_checksum_ok);
  EXPECT_EQ(*back->tcp.checksum, 0);
}

TEST(TcpParse, RoundTripIsByteExactForEveryFieldSetOnPurpose) {
  TcpPacket p = make_segment(0xff, 1, 2);
  p.ip.options = {0x94, 0x04, 0x00, 0x00};
  p.ip.tos = 0xb8;
  p.ip.ttl = 1;
  p.ip.flags = kIpFlagReserved;
  p.tcp.reserved = 0xf;
  p.tcp.options = {OptTimestamps{0xffffffffU, 0}, OptRaw{99, {7}}};
  p.tcp.option_padding = {0x00, 0x11};
  p.payload = {9};
  p.ip.checksum = 0x0bad;
  p.tcp.checksum = 0xf00d;
  const Bytes b = emit(p);
  auto back = parse_tcp_packet(b);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->ip_checksum_ok);
  EXPECT_FALSE(back->tcp_checksum_ok);
  EXPECT_EQ(emit(*back), b);
}

// parse_tcp_packet into a reused packet overwrites every field a previous parse left there: IP
// options, option padding, payload, checksums and their verdicts, in both orders.
TEST(TcpParse, IntoAReusedPacketLeavesNothingOfThePreviousOne) {
  TcpPacket rich = make_segment(0xff, 1, 2);
  rich.ip.options = {0x94, 0x04, 0x00, 0x00};
  rich.tcp.options = {OptTimestamps{5, 6}, OptSack{{{Seq(1), Seq(2)}}}, OptRaw{99, {7}}};
  rich.tcp.option_padding = {0x00, 0x11};
  rich.payload = {9, 8, 7};
  rich.ip.checksum = 0x0bad;
  rich.tcp.checksum = 0xf00d;
  TcpPacket plain = make_segment(f::kSyn, 100);
  plain.tcp.options = {OptMss{1460}};
  const Bytes rich_bytes = emit(rich);
  const Bytes plain_bytes = emit(plain);
  for (const bool rich_first : {true, false}) {
    const Bytes& first = rich_first ? rich_bytes : plain_bytes;
    const Bytes& second = rich_first ? plain_bytes : rich_bytes;
    TcpPacket reused;
    ASSERT_FALSE(parse_tcp_packet(first, reused));
    ASSERT_FALSE(parse_tcp_packet(second, reused));
    auto fresh = parse_tcp_packet(second);
    ASSERT_TRUE(fresh);
    EXPECT_EQ(emit(reused), second);
    EXPECT_EQ(reused.ip.options, fresh->ip.options);
    EXPECT_EQ(reused.tcp.options, fresh->tcp.options);
    EXPECT_EQ(reused.tcp.option_padding, fresh->tcp.option_padding);
    EXPECT_EQ(reused.payload, fresh->payload);
    EXPECT_EQ(reused.ip_checksum_ok, fresh->ip_checksum_ok);
    EXPECT_EQ(reused.tcp_checksum_ok, fresh->tcp_checksum_ok);
    EXPECT_EQ(reused.tcp.checksum, fresh->tcp.checksum);
  }
  // An error is the one parse_tcp_packet(packet) reports.
  const Bytes bad = with_option_space(from_hex("0205"));
  TcpPacket reused;
  const std::optional<ParseError> error = parse_tcp_packet(bad, reused);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, parse_tcp_packet(bad).error().code);
  EXPECT_EQ(error->offset, parse_tcp_packet(bad).error().offset);
}

TEST(TcpOptionLength, MatchesWhatTheEmitterWrites) {
  const std::vector<TcpOption> all = {OptEol{},
                                      OptNop{},
                                      OptMss{1},
                                      OptWindowScale{2},
                                      OptSackPermitted{},
                                      OptSack{},
                                      OptSack{{{Seq(1), Seq(2)}, {Seq(3), Seq(4)}}},
                                      OptTimestamps{5, 6},
                                      OptRaw{99, {}},
                                      OptRaw{253, {1, 2, 3}}};
  for (const TcpOption& o : all) {
    Bytes b;
    emit_option(o, b);
    EXPECT_EQ(option_wire_length(o), b.size()) << option_kind(o);
    EXPECT_EQ(b[0], option_kind(o));
  }
}

TEST(TcpPacket, SynAndFinEachTakeOneSequenceNumber) {
  TcpPacket p = make_segment(f::kAck);
  EXPECT_EQ(p.segment_length(), 0U);
  p.payload = {1, 2, 3};
  EXPECT_EQ(p.segment_length(), 3U);
  p.tcp.flags = f::kSyn | f::kFin;
  EXPECT_EQ(p.segment_length(), 5U);
}

using testing::ErrorCase;

class TcpParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(TcpParseError, RejectsWithTheRightCode) {
  testing::expect_rejected(parse_tcp_packet(GetParam().packet), GetParam());
}

Bytes udp_packet() {
  TcpPacket p = make_segment(0);
  p.ip.protocol = 17;
  return emit(p);
}

Bytes fragment(std::uint8_t flags, std::uint16_t offset) {
  TcpPacket p = make_segment(f::kAck);
  p.ip.flags = flags;
  p.ip.fragment_offset = offset;
  return emit(p);
}

Bytes short_tcp_header() {
  Ipv4Header h;
  h.src = Ipv4Addr::from_octets(10, 0, 0, 2);
  Bytes b;
  emit_ipv4_header(h, 10, b);
  b.resize(30, 0);
  return b;
}

Bytes data_offset(std::uint8_t words) {
  TcpPacket p = make_segment(f::kAck);
  p.tcp.data_offset = words;
  return emit(p);
}

INSTANTIATE_TEST_SUITE_P(
    EveryCheck, TcpParseError,
    ::testing::Values(
        ErrorCase{"ipv4_error_comes_first", {0x45, 0x00}, WireError::kTruncated},
        ErrorCase{"udp", udp_packet(), WireError::kNotTcp},
        ErrorCase{"more_fragments", fragment(kIpFlagMoreFragments, 0), WireError::kFragmented},
        ErrorCase{"fragment_offset", fragment(0, 1), WireError::kFragmented},
        ErrorCase{"tcp_header_truncated", short_tcp_header(), WireError::kTruncated},
        ErrorCase{"data_offset_4", data_offset(4), WireError::kBadDataOffset},
        ErrorCase{"data_offset_0", data_offset(0), WireError::kBadDataOffset},
        ErrorCase{"data_offset_beyond_segment", data_offset(6), WireError::kBadDataOffset},
        ErrorCase{"option_length_0", with_option_space(from_hex("02000000")),
                  WireError::kOptionLength},
        ErrorCase{"option_length_1", with_option_space(from_hex("fd010000")),
                  WireError::kOptionLength},
        ErrorCase{"option_runs_past_header", with_option_space(from_hex("01010204")),
                  WireError::kOptionOverrun},
        ErrorCase{"option_without_length_byte", with_option_space(from_hex("01010102")),
                  WireError::kOptionOverrun}),
    testing::error_case_name);

TEST(TcpParseOptions, ReportsTheOffsetOfTheBadOption) {
  auto r = parse_tcp_options(from_hex("0101fd01"), 40, nullptr);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().offset, 43U);  // the length byte of the option at 42
  EXPECT_THAT(r.error().message(), ::testing::HasSubstr("kind 253 announces length 1"));
}

}  // namespace
}  // namespace synack::wire
