// Big-endian field access for the stack's codec (RFC 791 / RFC 9293 network byte order). Callers
// check bounds first; nothing here casts a struct onto a buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace synack::stack::wire {

inline std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

inline std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}

inline void set16(std::span<std::uint8_t> b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v & 0xff);
}

inline void set32(std::span<std::uint8_t> b, std::size_t at, std::uint32_t v) {
  set16(b, at, static_cast<std::uint16_t>(v >> 16));
  set16(b, at + 2, static_cast<std::uint16_t>(v & 0xffff));
}

}  // namespace synack::stack::wire
