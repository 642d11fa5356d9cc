#include "harness/wire/checksum.h"

#include <cstddef>
#include <random>

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

// RFC 1071 4.1 word by word, the plainest way: what the 64-bit-word sum must agree with.
std::uint16_t reference_checksum(const Bytes& data) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const std::uint32_t low = i + 1 < data.size() ? data[i + 1] : 0;
    sum += (std::uint32_t{data[i]} << 8) | low;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum);
}

TEST(Checksum, WideSumAgreesWithWordByWord) {
  std::mt19937 rng(7);
  for (std::size_t len = 0; len <= 80; ++len) {
    for (int fill = 0; fill < 4; ++fill) {
      Bytes data(len);
      for (std::uint8_t& b : data) {
        // Random bytes, all ones (every word carries), all zeros, and mostly ones.
        b = fill == 0 ? static_cast<std::uint8_t>(rng()) : fill == 1 ? 0xff : fill == 2 ? 0 : 0xfe;
      }
      EXPECT_EQ(internet_checksum(data), reference_checksum(data)) << len << " " << fill;
      // Split at every odd point too: the wide sum then starts on the other byte of a word.
      for (std::size_t cut = 1; cut < len; cut += 2) {
        ChecksumAccumulator acc;
        acc.add(ByteSpan(data).subspan(0, cut));
        acc.add(ByteSpan(data).subspan(cut));
        EXPECT_EQ(acc.finish(), reference_checksum(data)) << len << " cut " << cut;
      }
    }
  }
}

TEST(Checksum, NonZeroDataSummingToZeroKeepsItsSign) {
  // 0xffff words sum to "negative zero": the checksum is 0, not the 0xffff of all-zero data.
  EXPECT_EQ(internet_checksum(Bytes(16, 0xff)), 0);
  EXPECT_EQ(internet_checksum(Bytes(16, 0x00)), 0xffff);
  // 0x0001 + 0xfffe over more than 8 bytes.
  EXPECT_EQ(internet_checksum(Bytes{0, 1, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0}), 0);
}

}  // namespace
}  // namespace synack::wire
