// Initial sequence numbers (RFC 6528) and SYN cookies (RFC 4987 section 3.6), both keyed with
// SipHash-2-4 so that they are unpredictable to an off-path attacker and exactly reproducible
// under a fixed key and virtual clock.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace synack::stack {

using SecretKey = std::array<std::uint8_t, 16>;

// SipHash-2-4 of `data` under `key` (Aumasson and Bernstein's reference definition).
std::uint64_t siphash24(const SecretKey& key, const std::uint8_t* data, std::size_t size);

struct FourTuple {
  std::uint32_t local_addr = 0;
  std::uint16_t local_port = 0;
  std::uint32_t remote_addr = 0;
  std::uint16_t remote_port = 0;
  friend bool operator==(const FourTuple&, const FourTuple&) = default;
};

// RFC 6528 section 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey), where M
// is a 4-microsecond timer and F a keyed hash (here the low 32 bits of SipHash-2-4).
std::uint32_t initial_sequence_number(const SecretKey& key, const FourTuple& tuple,
                                      std::int64_t now_us);

// SYN cookies as RFC 4987 section 3.6 describes them (D. J. Bernstein's layout; Linux's differs):
//   top 5 bits:  t mod 32, where t counts 64-second periods of the clock
//   next 3 bits: an index into kCookieMssTable (the largest entry not above the peer's MSS)
//   low 24 bits: a keyed hash of the 4-tuple, the client's ISN, t and the MSS index (so that
//                no bit of the cookie, the MSS bits included, can be altered undetected)
// The cookie is the server's ISS; the ACK that completes the handshake carries cookie + 1.
inline constexpr std::array<std::uint16_t, 8> kCookieMssTable = {536,  1200, 1300, 1360,
                                                                 1400, 1440, 1452, 1460};

std::uint32_t make_syn_cookie(const SecretKey& key, const FourTuple& tuple,
                              std::uint32_t client_isn, std::uint16_t peer_mss,
                              std::int64_t now_us);

// Validates `cookie` (the ACK's SEG.ACK - 1) for the client ISN (the ACK's SEG.SEQ - 1). Accepts
// cookies made in the current or the previous 64-second period only. Returns the MSS encoded in
// the cookie, or nullopt when the cookie is invalid or too old.
std::optional<std::uint16_t> check_syn_cookie(const SecretKey& key, const FourTuple& tuple,
                                              std::uint32_t client_isn, std::uint32_t cookie,
                                              std::int64_t now_us);

}  // namespace synack::stack
