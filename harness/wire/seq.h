// Wrap-safe TCP sequence numbers (RFC 9293 section 3.4: all arithmetic is modulo 2^32).
//
// There is deliberately no operator<: ordering only means something between numbers less than
// 2^31 apart, so every comparison is a named predicate that says so.
#pragma once

#include <cstdint>

namespace synack::wire {

class Seq {
 public:
  constexpr Seq() = default;
  constexpr explicit Seq(std::uint32_t v) : v_(v) {}

  constexpr std::uint32_t raw() const { return v_; }

  constexpr Seq operator+(std::uint32_t n) const { return Seq(v_ + n); }
  constexpr Seq operator-(std::uint32_t n) const { return Seq(v_ - n); }
  constexpr Seq& operator+=(std::uint32_t n) {
    v_ += n;
    return *this;
  }
  // Signed distance a - b: positive when a is after b. Meaningful while |a - b| < 2^31.
  friend constexpr std::int32_t operator-(Seq a, Seq b) {
    return static_cast<std::int32_t>(a.v_ - b.v_);
  }
  friend constexpr bool operator==(Seq a, Seq b) = default;

  constexpr bool lt(Seq o) const { return (*this - o) < 0; }
  constexpr bool le(Seq o) const { return (*this - o) <= 0; }
  constexpr bool gt(Seq o) const { return (*this - o) > 0; }
  constexpr bool ge(Seq o) const { return (*this - o) >= 0; }

  // start <= *this < start + size, modulo 2^32: the receive-window test of RFC 9293
  // section 3.10.7.4 for one sequence number. An empty window contains nothing.
  constexpr bool in_window(Seq start, std::uint32_t size) const { return v_ - start.v_ < size; }
  // first <= *this <= last, modulo 2^32, where the range runs forward from first.
  constexpr bool in_range(Seq first, Seq last) const { return v_ - first.v_ <= last.v_ - first.v_; }

 private:
  std::uint32_t v_ = 0;
};

// Number of sequence numbers from a forward to b (b - a modulo 2^32).
constexpr std::uint32_t seq_span(Seq a, Seq b) { return b.raw() - a.raw(); }

}  // namespace synack::wire
