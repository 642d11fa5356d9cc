#include "stack/tcp/isn.h"

#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace synack::stack {
namespace {

// The key of the SipHash paper's test vectors (appendix A): 00 01 02 ... 0f.
SecretKey reference_key() {
  SecretKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i);
  return k;
}

// The message 00 01 02 ... (n - 1).
std::vector<std::uint8_t> counting_message(std::size_t n) {
  std::vector<std::uint8_t> m(n);
  for (std::size_t i = 0; i < n; ++i) m[i] = static_cast<std::uint8_t>(i);
  return m;
}

std::uint64_t reference_hash(std::size_t n) {
  const std::vector<std::uint8_t> m = counting_message(n);
  return siphash24(reference_key(), m.data(), m.size());
}

SecretKey test_key(std::uint8_t seed) {
  SecretKey k{};
  for (std::size_t i = 0; i < k.size(); ++i) {
    k[i] = static_cast<std::uint8_t>((std::size_t{seed} * 31) + (i * 7));
  }
  return k;
}

constexpr FourTuple kTuple{0xc6336402, 80, 0xc0000201, 40000};
constexpr std::uint32_t kClientIsn = 0x01020304;
constexpr std::int64_t kPeriodUs = 64'000'000;
// An arbitrary moment 5 s into a cookie period, well away from zero.
constexpr std::int64_t kNow = 1'000 * kPeriodUs + 5'000'000;

// --- SipHash-2-4 ---------------------------------------------------------------------------

TEST(SipHash24, MatchesThePaperVectorFor15Bytes) {
  EXPECT_EQ(reference_hash(15), 0xa129ca6149be45e5U);
}

TEST(SipHash24, MatchesTheReferenceVectorForTheEmptyMessage) {
  EXPECT_EQ(reference_hash(0), 0x726fdb47dd0e0e31U);
  EXPECT_EQ(siphash24(reference_key(), nullptr, 0), 0x726fdb47dd0e0e31U);
}

// From the reference implementation's vectors.h (vectors_sip64), read as little-endian words:
// lengths on either side of the 8-byte block boundaries.
TEST(SipHash24, MatchesTheReferenceVectorsAroundBlockBoundaries) {
  EXPECT_EQ(reference_hash(1), 0x74f839c593dc67fdU);
  EXPECT_EQ(reference_hash(7), 0xab0200f58b01d137U);
  EXPECT_EQ(reference_hash(8), 0x93f5f5799a932462U);
  EXPECT_EQ(reference_hash(9), 0x9e0082df0ba9e4b0U);
  EXPECT_EQ(reference_hash(16), 0x3f2acc7f57c29bdbU);
  EXPECT_EQ(reference_hash(17), 0x699ae9f52cbe4794U);
}

TEST(SipHash24, DependsOnTheKey) {
  const std::vector<std::uint8_t> m = counting_message(15);
  EXPECT_NE(siphash24(test_key(1), m.data(), m.size()), reference_hash(15));
}

// --- ISN -----------------------------------------------------------------------------------

TEST(InitialSequenceNumber, IsDeterministicForTheSameKeyTupleAndTime) {
  EXPECT_EQ(initial_sequence_number(test_key(1), kTuple, kNow),
            initial_sequence_number(test_key(1), kTuple, kNow));
}

TEST(InitialSequenceNumber, DependsOnTheKey) {
  EXPECT_NE(initial_sequence_number(test_key(1), kTuple, kNow),
            initial_sequence_number(test_key(2), kTuple, kNow));
}

TEST(InitialSequenceNumber, AdvancesByOneEvery4Microseconds) {
  const SecretKey key = test_key(1);
  const std::int64_t start = 4'000'000;  // a multiple of 4
  const std::uint32_t isn = initial_sequence_number(key, kTuple, start);
  EXPECT_EQ(initial_sequence_number(key, kTuple, start + 3), isn);
  EXPECT_EQ(initial_sequence_number(key, kTuple, start + 4), isn + 1);
  EXPECT_EQ(initial_sequence_number(key, kTuple, start + 7), isn + 1);
  EXPECT_EQ(initial_sequence_number(key, kTuple, start + 4'000), isn + 1'000);
  EXPECT_EQ(initial_sequence_number(key, kTuple, start + 4'000'000), isn + 1'000'000);
}

TEST(InitialSequenceNumber, TimerWrapsModulo2To32) {
  const SecretKey key = test_key(1);
  const std::int64_t wrap = std::int64_t{4} << 32;  // M has counted 2^32 ticks
  EXPECT_EQ(initial_sequence_number(key, kTuple, wrap), initial_sequence_number(key, kTuple, 0));
}

TEST(InitialSequenceNumber, IsUnrelatedForDifferentTuples) {
  const SecretKey key = test_key(3);
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<std::uint32_t> addr;
  std::uniform_int_distribution<std::uint16_t> port(1, 65535);
  std::set<std::tuple<std::uint32_t, std::uint16_t, std::uint32_t, std::uint16_t>> seen_tuples;
  std::set<std::uint32_t> isns;
  std::uint32_t ones = 0;   // bits set in any ISN, low 16 bits
  std::uint32_t zeros = 0;  // bits clear in any ISN, low 16 bits
  int tuples = 0;
  while (tuples < 1000) {
    const FourTuple t{addr(rng), port(rng), addr(rng), port(rng)};
    if (!seen_tuples.insert({t.local_addr, t.local_port, t.remote_addr, t.remote_port}).second) {
      continue;
    }
    const std::uint32_t isn = initial_sequence_number(key, t, kNow);
    isns.insert(isn);
    ones |= isn;
    zeros |= ~isn;
    ++tuples;
  }
  EXPECT_EQ(isns.size(), 1000U);  // no collisions
  EXPECT_EQ(ones & 0xffffU, 0xffffU);
  EXPECT_EQ(zeros & 0xffffU, 0xffffU);
}

TEST(InitialSequenceNumber, DependsOnEveryTupleField) {
  const SecretKey key = test_key(4);
  const std::uint32_t base = initial_sequence_number(key, kTuple, kNow);
  FourTuple t = kTuple;
  t.local_addr ^= 1;
  EXPECT_NE(initial_sequence_number(key, t, kNow), base);
  t = kTuple;
  t.local_port ^= 1;
  EXPECT_NE(initial_sequence_number(key, t, kNow), base);
  t = kTuple;
  t.remote_addr ^= 1;
  EXPECT_NE(initial_sequence_number(key, t, kNow), base);
  t = kTuple;
  t.remote_port ^= 1;
  EXPECT_NE(initial_sequence_number(key, t, kNow), base);
  // Swapping the ends is a different connection.
  const FourTuple swapped{kTuple.remote_addr, kTuple.remote_port, kTuple.local_addr,
                          kTuple.local_port};
  EXPECT_NE(initial_sequence_number(key, swapped, kNow), base);
}

// --- SYN cookies ---------------------------------------------------------------------------

TEST(SynCookie, RoundTripGivesBackTheTableMss) {
  const SecretKey key = test_key(5);
  const struct {
    std::uint16_t peer;
    std::uint16_t table;
  } cases[] = {{1460, 1460}, {1400, 1400}, {1000, 536},  {9000, 1460}, {536, 536},
               {100, 536},   {1201, 1200}, {1459, 1452}, {1440, 1440}, {65535, 1460}};
  for (const auto& c : cases) {
    const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, c.peer, kNow);
    EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, kNow), c.table)
        << "peer MSS " << c.peer;
  }
}

TEST(SynCookie, LaysOutTimeAndMssIndexInTheTopByte) {
  const SecretKey key = test_key(5);
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1400, kNow);
  EXPECT_EQ(cookie >> 27, (kNow / kPeriodUs) % 32);  // t mod 32
  EXPECT_EQ((cookie >> 24) & 7U, 4U);                // kCookieMssTable[4] == 1400
}

TEST(SynCookie, AcceptedAMinuteLater) {
  const SecretKey key = test_key(6);
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1460, kNow);
  EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, kNow + 63'000'000), 1460);
}

TEST(SynCookie, AcceptedUntilTheEndOfTheNextPeriod) {
  const SecretKey key = test_key(6);
  const std::int64_t period_start = 2'000 * kPeriodUs;
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1460, period_start);
  EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, period_start + 2 * kPeriodUs - 1),
            1460);
  EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, period_start + 2 * kPeriodUs),
            std::nullopt);
}

TEST(SynCookie, RejectedTwoPeriodsLater) {
  const SecretKey key = test_key(6);
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1460, kNow);
  EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, kNow + 129'000'000), std::nullopt);
}

TEST(SynCookie, RejectedFromTheFuture) {
  const SecretKey key = test_key(6);
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1460, kNow + kPeriodUs);
  EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, kNow), std::nullopt);
}

TEST(SynCookie, RejectedWhenTheFiveBitClockHasWrapped) {
  const SecretKey key = test_key(6);
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1460, kNow);
  // 32 periods later the top five bits match again; the hash over t does not.
  EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, kNow + 32 * kPeriodUs), std::nullopt);
}

TEST(SynCookie, RejectedForADifferentClientIsn) {
  const SecretKey key = test_key(7);
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1460, kNow);
  EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn + 1, cookie, kNow), std::nullopt);
}

TEST(SynCookie, RejectedForADifferentTuple) {
  const SecretKey key = test_key(7);
  const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1460, kNow);
  FourTuple other = kTuple;
  other.remote_port = static_cast<std::uint16_t>(other.remote_port + 1);
  EXPECT_EQ(check_syn_cookie(key, other, kClientIsn, cookie, kNow), std::nullopt);
  other = kTuple;
  other.remote_addr += 1;
  EXPECT_EQ(check_syn_cookie(key, other, kClientIsn, cookie, kNow), std::nullopt);
}

TEST(SynCookie, RejectedUnderADifferentKey) {
  const std::uint32_t cookie = make_syn_cookie(test_key(7), kTuple, kClientIsn, 1460, kNow);
  EXPECT_EQ(check_syn_cookie(test_key(8), kTuple, kClientIsn, cookie, kNow), std::nullopt);
}

TEST(SynCookie, RejectedWithAnyOneBitFlipped) {
  const SecretKey key = test_key(9);
  for (const std::int64_t made : {kNow, kNow - kPeriodUs}) {  // current and previous period
    const std::uint32_t cookie = make_syn_cookie(key, kTuple, kClientIsn, 1300, made);
    ASSERT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie, kNow), 1300);
    for (unsigned bit = 0; bit < 32; ++bit) {
      EXPECT_EQ(check_syn_cookie(key, kTuple, kClientIsn, cookie ^ (1U << bit), kNow), std::nullopt)
          << "bit " << bit;
    }
  }
}

}  // namespace
}  // namespace synack::stack
