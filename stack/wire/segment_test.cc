#include "stack/wire/segment.h"

#include <cstddef>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "stack/wire/checksum.h"
#include "stack/wire/seq.h"

namespace synack::stack {
namespace {

using Bytes = std::vector<std::uint8_t>;
namespace f = tcp_flag;

constexpr std::uint32_t kClientAddr = 0xc0000201;  // 192.0.2.1 (RFC 5737 TEST-NET-1)
constexpr std::uint32_t kServerAddr = 0xc6336402;  // 198.51.100.2 (TEST-NET-2)

// Offsets the tests poke at, in a packet with a 20-byte IPv4 header.
constexpr std::size_t kIpTotalLength = 2;
constexpr std::size_t kIpFlagsFragment = 6;
constexpr std::size_t kIpTtl = 8;
constexpr std::size_t kIpProtocol = 9;
constexpr std::size_t kIpChecksum = 10;
constexpr std::size_t kTcp = 20;
constexpr std::size_t kTcpDataOffset = kTcp + 12;
constexpr std::size_t kTcpChecksum = kTcp + 16;
constexpr std::size_t kTcpOptions = kTcp + 20;

Bytes from_hex(std::string_view hex) {
  Bytes out;
  int high = -1;
  for (const char c : hex) {
    int n = -1;
    if (c >= '0' && c <= '9') n = c - '0';
    if (c >= 'a' && c <= 'f') n = c - 'a' + 10;
    if (n < 0) continue;  // spaces and separators
    if (high < 0) {
      high = n;
    } else {
      out.push_back(static_cast<std::uint8_t>((high << 4) | n));
      high = -1;
    }
  }
  return out;
}

std::uint16_t get16(const Bytes& b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

void set16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v & 0xff);
}

// Recomputes both checksums of a packet with a 20-byte IPv4 header after a test edited it, so
// that only the edit under test can make the parser reject it.
void fix_checksums(Bytes& b) {
  const std::size_t total = get16(b, kIpTotalLength);
  set16(b, kIpChecksum, 0);
  set16(b, kIpChecksum, internet_checksum(std::span(b).first(20)));
  set16(b, kTcpChecksum, 0);
  set16(b, kTcpChecksum,
        tcp_checksum(kClientAddr, kServerAddr, std::span(b).subspan(kTcp, total - kTcp)));
}

Segment make_segment(std::uint8_t flags) {
  Segment s;
  s.src_addr = kClientAddr;
  s.dst_addr = kServerAddr;
  s.src_port = 40000;
  s.dst_port = 80;
  s.seq = SeqNum(1000);
  s.ack = SeqNum(2000);
  s.flags = flags;
  s.window = 65535;
  return s;
}

// A segment whose option space is exactly `space` (a multiple of 4 bytes), checksums correct.
Bytes with_option_space(const Bytes& space) {
  if (space.size() % 4 != 0 || space.size() > 40) ADD_FAILURE() << "bad option space size";
  Bytes b = emit_segment(make_segment(f::kAck));
  b.insert(b.begin() + static_cast<std::ptrdiff_t>(kTcpOptions), space.begin(), space.end());
  set16(b, kIpTotalLength, static_cast<std::uint16_t>(b.size()));
  b[kTcpDataOffset] = static_cast<std::uint8_t>(((20 + space.size()) / 4) << 4);
  fix_checksums(b);
  return b;
}

ParseStatus parse(const Bytes& b) {
  Segment s;
  return parse_segment(b, s);
}

// Both packets below were built with Scapy 2.5 (Debian's python3-scapy), which computed the
// checksums; the bytes were checked again by re-serialising Scapy's parse of them, and both
// checksums by a separate RFC 1071 sum in Python.
//   IP(src="192.0.2.1", dst="198.51.100.2", id=0, flags="DF", ttl=64) /
//   TCP(sport=40000, dport=80, seq=0x01020304, flags="S", window=64240,
//       options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (0x11223344, 0)),
//                ("NOP", None), ("WScale", 7)])
Bytes scapy_syn() {
  return from_hex(
      "45"        // version 4, IHL 5
      "00"        // TOS
      "003c"      // total length 60
      "0000"      // identification 0
      "4000"      // flags DF, fragment offset 0
      "40"        // TTL 64
      "06"        // protocol TCP
      "4e85"      // header checksum
      "c0000201"  // source 192.0.2.1
      "c6336402"  // destination 198.51.100.2
      "9c40"      // source port 40000
      "0050"      // destination port 80
      "01020304"  // sequence number
      "00000000"  // acknowledgment number
      "a0"        // data offset 10 words (40 bytes)
      "02"        // flags SYN
      "faf0"      // window 64240
      "7bdb"      // checksum
      "0000"      // urgent pointer
      "020405b4"  // MSS 1460
      "0402"      // SACK permitted
      "080a"      // timestamps, length 10
      "11223344"  //   TSval
      "00000000"  //   TSecr
      "01"        // NOP
      "030307");  // window scale 7
}

//   IP(src="198.51.100.2", dst="192.0.2.1", id=0, flags="DF", ttl=64) /
//   TCP(sport=80, dport=40000, seq=0xa0b0c0d0, ack=0x01020305, flags="PA", window=509,
//       options=[("NOP", None), ("NOP", None), ("Timestamp", (0x55667788, 0x11223344))]) /
//   b"hello"
Bytes scapy_data() {
  return from_hex(
      "4500 0039 0000 4000 4006 4e88 c6336402 c0000201"   // IPv4, total 57, checksum 4e88
      "0050 9c40 a0b0c0d0 01020305 80 18 01fd 313c 0000"  // TCP, PSH|ACK, checksum 313c
      "01 01 080a 55667788 11223344"                      // NOP NOP TS
      "68656c6c6f");                                      // "hello": an odd payload
}

// --- SeqNum --------------------------------------------------------------------------------

TEST(SeqNum, OrderingHoldsAcrossTheWrap) {
  const SeqNum late(0x00000010);
  const SeqNum early(0xfffffff0);
  EXPECT_TRUE(early.before(late));
  EXPECT_TRUE(early.before_eq(late));
  EXPECT_FALSE(early.after(late));
  EXPECT_TRUE(late.after(early));
  EXPECT_TRUE(late.after_eq(early));
  EXPECT_FALSE(late.before(early));
  EXPECT_EQ(late.minus(early), 0x20);
  EXPECT_EQ(early.minus(late), -0x20);
}

TEST(SeqNum, EqualNumbersAreNeitherBeforeNorAfter) {
  const SeqNum a(0xffffffff);
  EXPECT_FALSE(a.before(a));
  EXPECT_FALSE(a.after(a));
  EXPECT_TRUE(a.before_eq(a));
  EXPECT_TRUE(a.after_eq(a));
}

TEST(SeqNum, AdditionAndDistanceWrapModulo2To32) {
  EXPECT_EQ(SeqNum(0xfffffffe) + 3, SeqNum(1));
  EXPECT_EQ(SeqNum(1) - 3, SeqNum(0xfffffffe));
  SeqNum s(0xffffffff);
  s += 2;
  EXPECT_EQ(s, SeqNum(1));
  EXPECT_EQ(distance(SeqNum(0xfffffff0), SeqNum(0x10)), 0x20U);
}

TEST(SeqNum, InWindowSpansTheWrap) {
  const SeqNum lo(0xfffffff0);
  EXPECT_TRUE(lo.in_window(lo, 0x20));
  EXPECT_TRUE(SeqNum(0xffffffff).in_window(lo, 0x20));
  EXPECT_TRUE(SeqNum(0x0f).in_window(lo, 0x20));
  EXPECT_FALSE(SeqNum(0x10).in_window(lo, 0x20));  // lo + size is outside
  EXPECT_FALSE(SeqNum(0xffffffef).in_window(lo, 0x20));
  EXPECT_FALSE(lo.in_window(lo, 0));  // an empty window holds nothing
}

TEST(SeqNum, BetweenIsInclusiveAcrossTheWrap) {
  const SeqNum lo(0xfffffff0);
  const SeqNum hi(0x10);
  EXPECT_TRUE(lo.between(lo, hi));
  EXPECT_TRUE(hi.between(lo, hi));
  EXPECT_TRUE(SeqNum(0).between(lo, hi));
  EXPECT_FALSE(SeqNum(0x11).between(lo, hi));
  EXPECT_FALSE(SeqNum(0xffffffef).between(lo, hi));
}

TEST(SeqNum, OrderFlipsAtHalfTheSpace) {
  const SeqNum zero(0);
  EXPECT_TRUE(zero.before(SeqNum(0x7fffffff)));
  EXPECT_TRUE(zero.after(SeqNum(0x80000001)));
}

// --- Parsing known packets -----------------------------------------------------------------

TEST(SegmentParse, HandWrittenScapySynDecodesEveryField) {
  Segment s;
  ASSERT_EQ(parse_segment(scapy_syn(), s), ParseStatus::kOk);
  EXPECT_EQ(s.src_addr, kClientAddr);
  EXPECT_EQ(s.dst_addr, kServerAddr);
  EXPECT_EQ(s.src_port, 40000);
  EXPECT_EQ(s.dst_port, 80);
  EXPECT_EQ(s.seq, SeqNum(0x01020304));
  EXPECT_EQ(s.ack, SeqNum(0));
  EXPECT_EQ(s.flags, f::kSyn);
  EXPECT_EQ(s.window, 64240);
  EXPECT_EQ(s.urgent_pointer, 0);
  EXPECT_EQ(s.options.mss, 1460);
  EXPECT_TRUE(s.options.sack_permitted);
  ASSERT_TRUE(s.options.timestamps.has_value());
  EXPECT_EQ(*s.options.timestamps, (Timestamps{0x11223344, 0}));
  EXPECT_EQ(s.options.wscale, 7);
  EXPECT_TRUE(s.options.sack.empty());
  EXPECT_TRUE(s.payload.empty());
  EXPECT_EQ(s.seg_len(), 1U);
}

TEST(SegmentParse, ScapyDataSegmentWithOddPayloadVerifies) {
  Segment s;
  ASSERT_EQ(parse_segment(scapy_data(), s), ParseStatus::kOk);
  EXPECT_EQ(s.src_addr, kServerAddr);
  EXPECT_EQ(s.dst_addr, kClientAddr);
  EXPECT_EQ(s.seq, SeqNum(0xa0b0c0d0));
  EXPECT_EQ(s.ack, SeqNum(0x01020305));
  EXPECT_EQ(s.flags, f::kPsh | f::kAck);
  EXPECT_EQ(s.window, 509);
  EXPECT_EQ(s.options.timestamps, (Timestamps{0x55667788, 0x11223344}));
  EXPECT_FALSE(s.options.mss.has_value());
  EXPECT_EQ(s.payload, (Bytes{'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(s.seg_len(), 5U);
}

TEST(SegmentParse, IgnoresBytesPastTheTotalLength) {
  Bytes b = scapy_data();
  b.insert(b.end(), {0, 0, 0, 0, 0xde, 0xad});  // Ethernet minimum-frame padding, say
  Segment s;
  ASSERT_EQ(parse_segment(b, s), ParseStatus::kOk);
  EXPECT_EQ(s.payload.size(), 5U);
}

TEST(SegmentParse, SkipsIpOptions) {
  // scapy_syn() with a 4-byte IP option (NOP NOP NOP EOL): IHL 6, total length 64.
  Bytes b = scapy_syn();
  b.insert(b.begin() + 20, {1, 1, 1, 0});
  b[0] = 0x46;
  set16(b, kIpTotalLength, 64);
  set16(b, kIpChecksum, 0);
  set16(b, kIpChecksum, internet_checksum(std::span(b).first(24)));
  Segment s;
  ASSERT_EQ(parse_segment(b, s), ParseStatus::kOk);
  EXPECT_EQ(s.options.mss, 1460);
  EXPECT_EQ(s.seq, SeqNum(0x01020304));
}

TEST(SegmentParse, OverwritesThePreviousContentsOfOut) {
  Segment s;
  s.payload = {1, 2, 3};
  s.options.sack.push_back({SeqNum(1), SeqNum(2)});
  ASSERT_EQ(parse_segment(scapy_syn(), s), ParseStatus::kOk);
  EXPECT_TRUE(s.payload.empty());
  EXPECT_TRUE(s.options.sack.empty());
}

// --- Emission ------------------------------------------------------------------------------

TEST(SegmentEmit, SynMatchesScapyByteForByte) {
  Segment s;
  s.src_addr = kClientAddr;
  s.dst_addr = kServerAddr;
  s.src_port = 40000;
  s.dst_port = 80;
  s.seq = SeqNum(0x01020304);
  s.flags = f::kSyn;
  s.window = 64240;
  s.options.mss = 1460;
  s.options.sack_permitted = true;
  s.options.timestamps = Timestamps{0x11223344, 0};
  s.options.wscale = 7;
  EXPECT_EQ(emit_segment(s), scapy_syn());
}

TEST(SegmentEmit, OddPayloadSegmentMatchesScapyByteForByte) {
  Segment s;
  s.src_addr = kServerAddr;
  s.dst_addr = kClientAddr;
  s.src_port = 80;
  s.dst_port = 40000;
  s.seq = SeqNum(0xa0b0c0d0);
  s.ack = SeqNum(0x01020305);
  s.flags = f::kPsh | f::kAck;
  s.window = 509;
  s.options.timestamps = Timestamps{0x55667788, 0x11223344};
  s.payload = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_EQ(emit_segment(s), scapy_data());
}

TEST(SegmentEmit, WritesTheFixedIpv4Fields) {
  const Bytes b = emit_segment(make_segment(f::kAck));
  ASSERT_EQ(b.size(), 40U);
  EXPECT_EQ(b[0], 0x45);
  EXPECT_EQ(b[1], 0);  // TOS
  EXPECT_EQ(get16(b, kIpTotalLength), 40);
  EXPECT_EQ(get16(b, 4), 0);                      // identification
  EXPECT_EQ(get16(b, kIpFlagsFragment), 0x4000);  // DF
  EXPECT_EQ(b[kIpTtl], 64);
  EXPECT_EQ(b[kIpProtocol], 6);
  EXPECT_EQ(b[kTcpDataOffset], 0x50);  // no options: 5 words
  EXPECT_EQ(internet_checksum(std::span(b).first(20)), 0);
}

TEST(SegmentEmit, ChecksumCoversAnOddPayloadAndThePseudoHeader) {
  Segment s = make_segment(f::kPsh | f::kAck);
  s.payload = {0xff, 0xfe, 0xfd};
  const Bytes b = emit_segment(s);
  EXPECT_EQ(tcp_checksum(kClientAddr, kServerAddr, std::span(b).subspan(kTcp)), 0);
  // The pseudo-header counts: the same bytes do not verify between other addresses.
  EXPECT_NE(tcp_checksum(kClientAddr, kServerAddr + 1, std::span(b).subspan(kTcp)), 0);
}

TEST(SegmentEmit, FullSynOptionsUseLinuxLayout) {
  Segment s = make_segment(f::kSyn);
  s.options.mss = 1460;
  s.options.sack_permitted = true;
  s.options.timestamps = Timestamps{0x01020304, 0x05060708};
  s.options.wscale = 7;
  const Bytes b = emit_segment(s);
  EXPECT_EQ(Bytes(b.begin() + kTcpOptions, b.end()),
            from_hex("020405b4 0402 080a 01020304 05060708 01 030307"));
}

TEST(SegmentEmit, TimestampsAloneArePrecededByTwoNops) {
  Segment s = make_segment(f::kAck);
  s.options.timestamps = Timestamps{0xaabbccdd, 0x11223344};
  const Bytes b = emit_segment(s);
  EXPECT_EQ(Bytes(b.begin() + kTcpOptions, b.end()), from_hex("0101 080a aabbccdd 11223344"));
}

TEST(SegmentEmit, SackPermittedWithoutTimestampsIsPrecededByTwoNops) {
  Segment s = make_segment(f::kSyn);
  s.options.sack_permitted = true;
  const Bytes b = emit_segment(s);
  EXPECT_EQ(Bytes(b.begin() + kTcpOptions, b.end()), from_hex("0101 0402"));
}

TEST(SegmentEmit, WindowScaleAloneIsPrecededByOneNop) {
  Segment s = make_segment(f::kSyn);
  s.options.wscale = 14;
  const Bytes b = emit_segment(s);
  EXPECT_EQ(Bytes(b.begin() + kTcpOptions, b.end()), from_hex("01 03030e"));
}

TEST(SegmentEmit, SynWithoutTimestampsUsesLinuxLayout) {
  Segment s = make_segment(f::kSyn);
  s.options.mss = 536;
  s.options.sack_permitted = true;
  s.options.wscale = 2;
  const Bytes b = emit_segment(s);
  EXPECT_EQ(Bytes(b.begin() + kTcpOptions, b.end()), from_hex("02040218 0101 0402 01 030302"));
}

TEST(SegmentEmit, SackBlocksFollowTimestampsWithTwoNops) {
  Segment s = make_segment(f::kAck);
  s.options.timestamps = Timestamps{1, 2};
  s.options.sack = {{SeqNum(0x10), SeqNum(0x20)}, {SeqNum(0x30), SeqNum(0x40)}};
  const Bytes b = emit_segment(s);
  EXPECT_EQ(Bytes(b.begin() + kTcpOptions, b.end()),
            from_hex("0101 080a 00000001 00000002"
                     "0101 0512 00000010 00000020 00000030 00000040"));
}

TEST(SegmentEmit, SackBlocksAloneArePrecededByTwoNops) {
  Segment s = make_segment(f::kAck);
  s.options.sack = {{SeqNum(0xfffffff0), SeqNum(0x10)}};
  const Bytes b = emit_segment(s);
  EXPECT_EQ(Bytes(b.begin() + kTcpOptions, b.end()), from_hex("0101 050a fffffff0 00000010"));
}

TEST(SegmentEmit, DropsSackBlocksThatDoNotFitInTheOptionSpace) {
  const std::vector<SackBlock> four = {{SeqNum(1), SeqNum(2)},
                                       {SeqNum(3), SeqNum(4)},
                                       {SeqNum(5), SeqNum(6)},
                                       {SeqNum(7), SeqNum(8)}};
  Segment s = make_segment(f::kAck);
  s.options.sack = four;
  Segment back;
  ASSERT_EQ(parse_segment(emit_segment(s), back), ParseStatus::kOk);
  EXPECT_EQ(back.options.sack, four);  // 36 bytes: all four fit

  s.options.timestamps = Timestamps{1, 2};
  const Bytes b = emit_segment(s);
  EXPECT_EQ(b[kTcpDataOffset] >> 4, 15);  // the whole 40 bytes
  ASSERT_EQ(parse_segment(b, back), ParseStatus::kOk);
  EXPECT_EQ(back.options.sack, std::vector<SackBlock>(four.begin(), four.begin() + 3));

  s.options.mss = 1460;
  s.options.sack_permitted = true;
  s.options.wscale = 7;
  ASSERT_EQ(parse_segment(emit_segment(s), back), ParseStatus::kOk);
  EXPECT_EQ(back.options.sack, std::vector<SackBlock>(four.begin(), four.begin() + 2));
}

// Every combination of the options, each through emit and parse. The option bytes must also keep
// Linux's alignment: MSS on a 32-bit boundary and the 32-bit fields of TS and SACK aligned.
TEST(SegmentEmit, EveryOptionCombinationRoundTrips) {
  int combinations = 0;
  for (unsigned mask = 0; mask < 16; ++mask) {
    for (std::size_t blocks = 0; blocks <= 4; ++blocks) {
      Segment s = make_segment(f::kAck | f::kPsh);
      s.payload = {'x', 'y', 'z'};
      if ((mask & 1U) != 0) s.options.mss = 1400;
      if ((mask & 2U) != 0) s.options.sack_permitted = true;
      if ((mask & 4U) != 0) s.options.timestamps = Timestamps{0xdeadbeef, 0x12345678};
      if ((mask & 8U) != 0) s.options.wscale = 9;
      for (std::uint32_t i = 0; i < blocks; ++i) {
        s.options.sack.push_back({SeqNum(100 * i), SeqNum(100 * i + 50)});
      }
      const Bytes b = emit_segment(s);
      Segment back;
      ASSERT_EQ(parse_segment(b, back), ParseStatus::kOk)
          << "mask " << mask << " blocks " << blocks;
      const std::size_t header = static_cast<std::size_t>(b[kTcpDataOffset] >> 4) * 4;
      // SACK blocks beyond what the remaining option space holds are dropped.
      Segment expected = s;
      const std::size_t fixed = ((mask & 1U) != 0 ? 4U : 0U) + ((mask & 4U) != 0 ? 12U : 0U) +
                                ((mask & 2U) != 0 && (mask & 4U) == 0 ? 4U : 0U) +
                                ((mask & 8U) != 0 ? 4U : 0U);
      const std::size_t fit = (40 - fixed - 4) / 8;
      if (blocks > fit) expected.options.sack.resize(fit);
      EXPECT_EQ(back.options, expected.options) << "mask " << mask << " blocks " << blocks;
      EXPECT_EQ(back.payload, s.payload);
      EXPECT_EQ(back.seq, s.seq);
      EXPECT_EQ(back.ack, s.ack);
      EXPECT_EQ(back.flags, s.flags);
      EXPECT_EQ(back.window, s.window);

      // Alignment, walking the emitted option bytes.
      EXPECT_EQ(header % 4, 0U);
      for (std::size_t at = kTcpOptions; at < kTcp + header;) {
        const std::uint8_t kind = b[at];
        if (kind == 1) {
          ++at;
          continue;
        }
        const std::size_t rel = at - kTcpOptions;
        if (kind == 2) {
          EXPECT_EQ(rel % 4, 0U) << "MSS at " << rel;
        }
        if (kind == 8 || kind == 5) {
          EXPECT_EQ((rel + 2) % 4, 0U) << "kind " << int{kind} << " at " << rel;
        }
        at += b[at + 1];
      }
      ++combinations;
    }
  }
  EXPECT_EQ(combinations, 80);
}

TEST(SegmentEmit, RoundTripsEveryHeaderField) {
  Segment s;
  s.src_addr = 0x0a000001;
  s.dst_addr = 0xfffffffe;
  s.src_port = 65535;
  s.dst_port = 1;
  s.seq = SeqNum(0xfffffffe);
  s.ack = SeqNum(0x80000000);
  s.flags = 0xff;
  s.window = 0x1234;
  s.urgent_pointer = 0xabcd;
  s.payload.assign(1001, 0x5a);
  Segment back;
  ASSERT_EQ(parse_segment(emit_segment(s), back), ParseStatus::kOk);
  EXPECT_EQ(back.src_addr, s.src_addr);
  EXPECT_EQ(back.dst_addr, s.dst_addr);
  EXPECT_EQ(back.src_port, s.src_port);
  EXPECT_EQ(back.dst_port, s.dst_port);
  EXPECT_EQ(back.seq, s.seq);
  EXPECT_EQ(back.ack, s.ack);
  EXPECT_EQ(back.flags, s.flags);
  EXPECT_EQ(back.window, s.window);
  EXPECT_EQ(back.urgent_pointer, s.urgent_pointer);
  EXPECT_EQ(back.payload, s.payload);
}

// --- Malformed packets ---------------------------------------------------------------------

TEST(SegmentParse, RejectsATruncatedIpHeader) {
  Bytes b = scapy_syn();
  b.resize(19);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
  EXPECT_EQ(parse(Bytes{}), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsAVersionOtherThan4) {
  Bytes b = scapy_syn();
  b[0] = 0x65;
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsIhlBelow5) {
  Bytes b = scapy_syn();
  b[0] = 0x44;
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsIhlPastTheBuffer) {
  Bytes b = scapy_syn();
  b.resize(24);  // 24 bytes, where IHL 15 announces 60
  b[0] = 0x4f;
  set16(b, kIpTotalLength, 24);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsTotalLengthBelowTheHeaderLength) {
  Bytes b = scapy_syn();
  set16(b, kIpTotalLength, 19);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsTotalLengthPastTheBuffer) {
  Bytes b = scapy_syn();
  set16(b, kIpTotalLength, static_cast<std::uint16_t>(b.size() + 1));
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsAFragmentWithMoreFragmentsSet) {
  Bytes b = scapy_syn();
  set16(b, kIpFlagsFragment, 0x2000);
  fix_checksums(b);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsAFragmentWithANonzeroOffset) {
  Bytes b = scapy_syn();
  set16(b, kIpFlagsFragment, 0x4001);  // DF and offset 8 bytes: still a (bogus) fragment
  fix_checksums(b);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsATcpHeaderShorterThan20Bytes) {
  Bytes b = scapy_syn();
  b.resize(39);
  set16(b, kIpTotalLength, 39);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsDataOffsetBelow5) {
  Bytes b = emit_segment(make_segment(f::kAck));
  b[kTcpDataOffset] = 0x40;
  fix_checksums(b);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsDataOffsetPastTheSegment) {
  Segment s = make_segment(f::kAck);
  s.payload = {1, 2, 3};  // 23 bytes of TCP; data offset 6 announces 24
  Bytes b = emit_segment(s);
  b[kTcpDataOffset] = 0x60;
  fix_checksums(b);
  EXPECT_EQ(parse(b), ParseStatus::kMalformed);
}

TEST(SegmentParse, AcceptsDataOffsetEqualToTheSegmentLength) {
  Bytes b = with_option_space(from_hex("01010101"));
  EXPECT_EQ(parse(b), ParseStatus::kOk);
}

TEST(SegmentParse, RejectsOptionLength0) {
  EXPECT_EQ(parse(with_option_space(from_hex("fe000101"))), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsOptionLength1) {
  EXPECT_EQ(parse(with_option_space(from_hex("02010101"))), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsAnOptionRunningPastTheHeader) {
  EXPECT_EQ(parse(with_option_space(from_hex("01 0208 05b4 000000"))), ParseStatus::kMalformed);
  EXPECT_EQ(parse(with_option_space(from_hex("01 080a00"))), ParseStatus::kMalformed);
}

TEST(SegmentParse, RejectsAKindByteWithNoLengthByte) {
  EXPECT_EQ(parse(with_option_space(from_hex("010101 02"))), ParseStatus::kMalformed);
  EXPECT_EQ(parse(with_option_space(from_hex("010101 fe"))), ParseStatus::kMalformed);
}

// --- Other statuses ------------------------------------------------------------------------

TEST(SegmentParse, ReportsAnotherProtocolAsNotTcp) {
  Bytes b = scapy_syn();
  b[kIpProtocol] = 17;  // UDP
  set16(b, kIpChecksum, 0);
  set16(b, kIpChecksum, internet_checksum(std::span(b).first(20)));
  EXPECT_EQ(parse(b), ParseStatus::kNotTcp);
}

TEST(SegmentParse, ReportsAFlippedTcpByteAsBadChecksum) {
  Bytes b = scapy_data();
  b.back() ^= 0x01;  // in the payload
  Segment s;
  EXPECT_EQ(parse_segment(b, s), ParseStatus::kBadChecksum);
  EXPECT_EQ(s.payload, (Bytes{'h', 'e', 'l', 'l', 'n'}));  // parsed in full all the same
}

TEST(SegmentParse, ReportsAFlippedTcpHeaderByteAsBadChecksum) {
  Bytes b = scapy_syn();
  b[kTcp + 4] ^= 0x80;  // the sequence number
  EXPECT_EQ(parse(b), ParseStatus::kBadChecksum);
}

TEST(SegmentParse, ReportsAFlippedIpHeaderByteAsBadChecksum) {
  Bytes b = scapy_syn();
  b[kIpTtl] ^= 0x01;
  EXPECT_EQ(parse(b), ParseStatus::kBadChecksum);
}

TEST(SegmentParse, ReportsAChangedAddressAsBadChecksumEvenWithAFixedIpHeader) {
  Bytes b = scapy_syn();
  b[19] ^= 0x01;  // destination address, covered by the TCP pseudo-header
  set16(b, kIpChecksum, 0);
  set16(b, kIpChecksum, internet_checksum(std::span(b).first(20)));
  EXPECT_EQ(parse(b), ParseStatus::kBadChecksum);
}

// --- Option decoding -----------------------------------------------------------------------

TEST(SegmentParse, IgnoresKnownOptionsWithTheWrongLength) {
  Segment s;
  ASSERT_EQ(parse_segment(with_option_space(from_hex("020305 01"      // MSS, length 3
                                                     "03040700"       // window scale, length 4
                                                     "040301 01"      // SACK-permitted, length 3
                                                     "0806 00000001"  // timestamps, length 6
                                                     "0502 0101"      // SACK with no block
                                                     "050a 00000001 00000002 0101"  // 1 block
                                                     "0503 00 01"  // SACK, length 3
                                                     "0101")),
                          s),
            ParseStatus::kOk);
  EXPECT_FALSE(s.options.mss.has_value());
  EXPECT_FALSE(s.options.wscale.has_value());
  EXPECT_FALSE(s.options.sack_permitted);
  EXPECT_FALSE(s.options.timestamps.has_value());
  // The well-formed one-block SACK is decoded; the malformed ones around it are not.
  EXPECT_EQ(s.options.sack, (std::vector<SackBlock>{{SeqNum(1), SeqNum(2)}}));
}

TEST(SegmentParse, IgnoresAnMssOptionOfLength6) {
  Segment s;
  ASSERT_EQ(parse_segment(with_option_space(from_hex("0206 05b4 0000 0101")), s), ParseStatus::kOk);
  EXPECT_FALSE(s.options.mss.has_value());
}

TEST(SegmentParse, SkipsUnknownOptionKinds) {
  Segment s;
  ASSERT_EQ(parse_segment(with_option_space(from_hex("fe04abcd 020405b4 1e02 0303 07 000000")), s),
            ParseStatus::kOk);
  EXPECT_EQ(s.options.mss, 1460);
  EXPECT_EQ(s.options.wscale, 7);
}

TEST(SegmentParse, StopsAtEndOfOptionList) {
  // After EOL the rest is padding, even bytes that would be a malformed option.
  Segment s;
  ASSERT_EQ(parse_segment(with_option_space(from_hex("01 030306 00 020000")), s), ParseStatus::kOk);
  EXPECT_EQ(s.options.wscale, 6);
  EXPECT_FALSE(s.options.mss.has_value());
}

TEST(SegmentParse, DecodesFourSackBlocks) {
  Segment s;
  ASSERT_EQ(parse_segment(with_option_space(from_hex("0101 0522"
                                                     "00000001 00000002 00000003 00000004"
                                                     "00000005 00000006 fffffff0 00000010")),
                          s),
            ParseStatus::kOk);
  EXPECT_EQ(s.options.sack, (std::vector<SackBlock>{{SeqNum(1), SeqNum(2)},
                                                    {SeqNum(3), SeqNum(4)},
                                                    {SeqNum(5), SeqNum(6)},
                                                    {SeqNum(0xfffffff0), SeqNum(0x10)}}));
}

// --- SEG.LEN -------------------------------------------------------------------------------

TEST(Segment, SegLenCountsSynAndFin) {
  Segment s = make_segment(f::kAck);
  EXPECT_EQ(s.seg_len(), 0U);
  s.flags = f::kSyn;
  EXPECT_EQ(s.seg_len(), 1U);
  s.flags = f::kFin | f::kAck;
  EXPECT_EQ(s.seg_len(), 1U);
  s.flags = f::kSyn | f::kFin;
  s.payload = {1, 2, 3};
  EXPECT_EQ(s.seg_len(), 5U);
}

TEST(Segment, SegLenSurvivesARoundTrip) {
  Segment s = make_segment(f::kFin | f::kAck);
  s.payload = {'b', 'y', 'e'};
  Segment back;
  ASSERT_EQ(parse_segment(emit_segment(s), back), ParseStatus::kOk);
  EXPECT_EQ(back.seg_len(), 4U);
}

}  // namespace
}  // namespace synack::stack
