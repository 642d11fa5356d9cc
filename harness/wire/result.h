// A parse result: a value, or a typed error that says what was wrong and where.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace synack::wire {

// Why a buffer was rejected. Each code names one check of the parser, in the order the
// parsers apply them (see docs/wire-vectors.md); a bad checksum is not an error but a flag.
enum class WireError {
  kTruncated,       // the buffer ends before a header or the IPv4 total length says it does
  kBadVersion,      // IPv4 version field is not 4
  kBadIhl,          // IPv4 IHL below 5 words
  kBadTotalLength,  // IPv4 total length shorter than the header it announces
  kNotTcp,          // IPv4 protocol is not 6
  kFragmented,      // MF set or fragment offset non-zero: no whole TCP header to parse
  kBadDataOffset,   // TCP data offset below 5 words or beyond the segment
  kOptionOverrun,   // a TCP option runs past the option space, or has no room for its length
  kOptionLength,    // a TCP option length of 0 or 1 (RFC 9293 3.1: it includes kind and length)
  kBadEthernet,     // Ethernet frame shorter than its 14-byte header
  kUnsupportedArp,  // ARP for something other than Ethernet/IPv4
  kNotIcmp,         // IPv4 protocol is not 1 (parse_icmp_packet)
};

// Stable lower-case identifier (the code used in docs/wire-vectors.md).
const char* to_code(WireError e);
// Human sentence fragment, e.g. "TCP option length 1 (must be at least 2)".
const char* describe(WireError e);

struct ParseError {
  WireError code;
  std::size_t offset = 0;  // byte offset in the buffer where the problem was found
  std::string detail;      // optional specifics ("option kind 2 at offset 38 announces 4 bytes")

  // "truncated at byte 34: TCP header needs 20 bytes, 10 left"
  std::string message() const;
};

// A value or an error. Deliberately small: the codec needs nothing more, and gcc 12 / clang 14
// in C++20 mode have no std::expected.
template <class T, class E = ParseError>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const E& error() const { return std::get<1>(v_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace synack::wire
