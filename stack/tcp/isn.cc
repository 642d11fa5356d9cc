#include "stack/tcp/isn.h"

#include <bit>
#include <cstddef>

namespace synack::stack {
namespace {

// SipHash's initialisation constants ("somepseudorandomlygeneratedbytes"), from section 2 of
// Aumasson and Bernstein, "SipHash: a fast short-input PRF" (2012).
constexpr std::uint64_t kSipInit0 = 0x736f6d6570736575;
constexpr std::uint64_t kSipInit1 = 0x646f72616e646f6d;
constexpr std::uint64_t kSipInit2 = 0x6c7967656e657261;
constexpr std::uint64_t kSipInit3 = 0x7465646279746573;
constexpr int kCompressionRounds = 2;   // the "2" of SipHash-2-4
constexpr int kFinalizationRounds = 4;  // the "4"
constexpr std::size_t kSipBlock = 8;

// RFC 6528 section 3: M is a timer that ticks every 4 microseconds.
constexpr std::int64_t kIsnTickUs = 4;

// RFC 4987 section 3.6: t counts 64-second periods; 5 bits of it go in the cookie.
constexpr std::int64_t kCookiePeriodUs = 64'000'000;
constexpr unsigned kCookieTimeShift = 27;
constexpr std::uint32_t kCookieTimeMask = 0x1f;
constexpr unsigned kCookieMssShift = 24;
constexpr std::uint32_t kCookieMssMask = 0x7;
constexpr std::uint32_t kCookieHashMask = 0x00ff'ffff;

// SipHash reads the message and key as little-endian 64-bit words (the paper, section 2).
std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (std::size_t i = kSipBlock; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

struct SipState {
  std::uint64_t v0;
  std::uint64_t v1;
  std::uint64_t v2;
  std::uint64_t v3;

  // SipRound (the paper, section 2, figure 2).
  void round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  void compress(std::uint64_t m) {
    v3 ^= m;
    for (int i = 0; i < kCompressionRounds; ++i) round();
    v0 ^= m;
  }
};

// Floor division, so that the clocks below tick evenly through zero.
std::int64_t floor_div(std::int64_t n, std::int64_t d) {
  return n >= 0 ? n / d : -((-(n + 1)) / d) - 1;
}

// A hash input: fixed-width big-endian fields in a fixed order, so that no two different inputs
// produce the same bytes. Large enough for the cookie's input, the longest one.
class Message {
 public:
  void put(std::uint64_t v, std::size_t width) {
    for (std::size_t i = width; i-- > 0;) {
      bytes_.at(size_++) = static_cast<std::uint8_t>(v >> (8 * i));
    }
  }
  void put(const FourTuple& tuple) {
    put(tuple.local_addr, 4);
    put(tuple.local_port, 2);
    put(tuple.remote_addr, 4);
    put(tuple.remote_port, 2);
  }
  std::uint64_t hash(const SecretKey& key) const { return siphash24(key, bytes_.data(), size_); }

 private:
  std::array<std::uint8_t, 32> bytes_{};
  std::size_t size_ = 0;
};

// The cookie's 24-bit MAC. It covers the MSS index as well as the 4-tuple, the client's ISN and
// t, so that no bit of the cookie can be changed without detection (an unauthenticated index
// would let a client pick any table MSS).
std::uint32_t cookie_mac(const SecretKey& key, const FourTuple& tuple, std::uint32_t client_isn,
                         std::int64_t t, std::uint32_t mss_index) {
  Message message;
  message.put(tuple);
  message.put(client_isn, 4);
  message.put(static_cast<std::uint64_t>(t), 8);
  message.put(mss_index, 1);
  return static_cast<std::uint32_t>(message.hash(key)) & kCookieHashMask;
}

std::uint32_t make_cookie(const SecretKey& key, const FourTuple& tuple, std::uint32_t client_isn,
                          std::int64_t t, std::uint32_t mss_index) {
  // static_cast to unsigned is reduction modulo 2^32, so the mask gives t mod 32 even for t < 0.
  const std::uint32_t t_bits = static_cast<std::uint32_t>(t) & kCookieTimeMask;
  return (t_bits << kCookieTimeShift) | (mss_index << kCookieMssShift) |
         cookie_mac(key, tuple, client_isn, t, mss_index);
}

}  // namespace

std::uint64_t siphash24(const SecretKey& key, const std::uint8_t* data, std::size_t size) {
  const std::uint64_t k0 = load_le64(key.data());
  const std::uint64_t k1 = load_le64(key.data() + kSipBlock);
  SipState s{k0 ^ kSipInit0, k1 ^ kSipInit1, k0 ^ kSipInit2, k1 ^ kSipInit3};

  const std::size_t whole = size - size % kSipBlock;
  for (std::size_t i = 0; i < whole; i += kSipBlock) s.compress(load_le64(data + i));

  // The last block: the remaining bytes little-endian, the message length mod 256 in the top byte.
  std::uint64_t last = static_cast<std::uint64_t>(size & 0xff) << 56;
  for (std::size_t i = whole; i < size; ++i) last |= std::uint64_t{data[i]} << (8 * (i - whole));
  s.compress(last);

  s.v2 ^= 0xff;
  for (int i = 0; i < kFinalizationRounds; ++i) s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

std::uint32_t initial_sequence_number(const SecretKey& key, const FourTuple& tuple,
                                      std::int64_t now_us) {
  // M wraps modulo 2^32 (every 4.77 hours), as RFC 6528 section 3 intends.
  const auto m = static_cast<std::uint32_t>(floor_div(now_us, kIsnTickUs));
  Message message;
  message.put(tuple);
  return m + static_cast<std::uint32_t>(message.hash(key));
}

std::uint32_t make_syn_cookie(const SecretKey& key, const FourTuple& tuple,
                              std::uint32_t client_isn, std::uint16_t peer_mss,
                              std::int64_t now_us) {
  // The largest table entry not above the peer's MSS; the smallest entry if even that is above.
  std::uint32_t mss_index = 0;
  for (std::uint32_t i = 0; i < kCookieMssTable.size(); ++i) {
    if (kCookieMssTable[i] <= peer_mss) mss_index = i;
  }
  return make_cookie(key, tuple, client_isn, floor_div(now_us, kCookiePeriodUs), mss_index);
}

std::optional<std::uint16_t> check_syn_cookie(const SecretKey& key, const FourTuple& tuple,
                                              std::uint32_t client_isn, std::uint32_t cookie,
                                              std::int64_t now_us) {
  const std::int64_t now_t = floor_div(now_us, kCookiePeriodUs);
  const std::uint32_t t_bits = (cookie >> kCookieTimeShift) & kCookieTimeMask;
  const std::uint32_t mss_index = (cookie >> kCookieMssShift) & kCookieMssMask;
  // Only the current and the previous period are acceptable; their 5-bit values always differ,
  // so at most one t can match.
  for (const std::int64_t t : {now_t, now_t - 1}) {
    if ((static_cast<std::uint32_t>(t) & kCookieTimeMask) != t_bits) continue;
    if (make_cookie(key, tuple, client_isn, t, mss_index) != cookie) return std::nullopt;
    return kCookieMssTable[mss_index];
  }
  return std::nullopt;
}

}  // namespace synack::stack
