// Sequence numbers for the stack (RFC 9293 section 3.4: arithmetic modulo 2^32).
//
// The stack has its own type, separate from harness/wire/seq.h on purpose: the harness judges
// the stack and must not share its code (DESIGN.md). Comparisons are named predicates; there is
// no operator<, since ordering only means something between numbers less than 2^31 apart.
#pragma once

#include <cstdint>

namespace synack::stack {

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t v) : v_(v) {}
  constexpr std::uint32_t value() const { return v_; }

  constexpr SeqNum operator+(std::uint32_t n) const { return SeqNum(v_ + n); }
  constexpr SeqNum operator-(std::uint32_t n) const { return SeqNum(v_ - n); }
  constexpr SeqNum& operator+=(std::uint32_t n) {
    v_ += n;
    return *this;
  }
  friend constexpr bool operator==(SeqNum, SeqNum) = default;

  // Signed distance this - other (positive when this is later).
  constexpr std::int32_t minus(SeqNum other) const {
    return static_cast<std::int32_t>(v_ - other.v_);
  }
  constexpr bool before(SeqNum o) const { return minus(o) < 0; }      // this < o
  constexpr bool before_eq(SeqNum o) const { return minus(o) <= 0; }  // this =< o
  constexpr bool after(SeqNum o) const { return minus(o) > 0; }       // this > o
  constexpr bool after_eq(SeqNum o) const { return minus(o) >= 0; }   // this >= o
  // lo =< this < lo + size
  constexpr bool in_window(SeqNum lo, std::uint32_t size) const { return v_ - lo.v_ < size; }
  // lo =< this =< hi
  constexpr bool between(SeqNum lo, SeqNum hi) const { return v_ - lo.v_ <= hi.v_ - lo.v_; }

 private:
  std::uint32_t v_ = 0;
};

// Forward distance from a to b (b - a modulo 2^32).
constexpr std::uint32_t distance(SeqNum a, SeqNum b) { return b.value() - a.value(); }

}  // namespace synack::stack
