#include "harness/wire/checksum.h"

#include <gtest/gtest.h>

namespace synack::wire {
namespace {

TEST(Checksum, MatchesTheRfc1071Example) {
  // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (after the end-around carry).
  const Bytes data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(internet_checksum(data), static_cast<std::uint16_t>(~0xddf2U));
}

TEST(Checksum, MatchesAKnownIpv4Header) {
  // 192.168.0.1 > 192.168.0.199, UDP, total length 0x73: a well-known worked example (b861).
  const Bytes header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(header), 0xb861);
}

TEST(Checksum, DataHoldingItsOwnChecksumSumsToZero) {
  Bytes header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                  0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(internet_checksum(header), 0);
  header[3] ^= 1;
  EXPECT_NE(internet_checksum(header), 0);
}

TEST(Checksum, OddLengthPadsWithZeroOnTheRight) {
  EXPECT_EQ(internet_checksum(Bytes{0x12, 0x34, 0x56}),
            internet_checksum(Bytes{0x12, 0x34, 0x56, 0x00}));
  EXPECT_NE(internet_checksum(Bytes{0x12, 0x34, 0x56}),
            internet_checksum(Bytes{0x12, 0x34, 0x00, 0x56}));
}

TEST(Checksum, ChunksOfOddLengthEqualOnePass) {
  const Bytes all = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  for (std::size_t cut1 = 0; cut1 <= all.size(); ++cut1) {
    for (std::size_t cut2 = cut1; cut2 <= all.size(); ++cut2) {
      ChecksumAccumulator acc;
      const ByteSpan s(all);
      acc.add(s.subspan(0, cut1));
      acc.add(s.subspan(cut1, cut2 - cut1));
      acc.add(s.subspan(cut2));
      EXPECT_EQ(acc.finish(), internet_checksum(all)) << cut1 << "," << cut2;
    }
  }
}

TEST(Checksum, WordAfterAnOddChunkStraddlesIt) {
  ChecksumAccumulator acc;
  acc.add(Bytes{0xab});
  acc.add16(0xcdef);
  EXPECT_EQ(acc.finish(), internet_checksum(Bytes{0xab, 0xcd, 0xef}));
}

TEST(Checksum, PseudoHeaderIsSourceDestinationProtocolLength) {
  ChecksumAccumulator a;
  add_ipv4_pseudo_header(a, 0x0a000001, 0x0a000002, 6, 20);
  const Bytes explicit_header = {10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 20};
  EXPECT_EQ(a.finish(), internet_checksum(explicit_header));
}

}  // namespace
}  // namespace synack::wire
