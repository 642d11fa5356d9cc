// Errno-style results of the socket API. The values are Linux's errno numbers (<cerrno>), so a
// verdict against the in-process stack reads the same as one against the kernel.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

namespace synack::stack {

// An errno value (ECONNREFUSED, EAGAIN, ...), never 0.
struct Errno {
  int code;
  friend bool operator==(Errno, Errno) = default;
};

template <class T>
class SysResult {
 public:
  SysResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  SysResult(Errno e) : v_(std::in_place_index<1>, e) {}                 // NOLINT: implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  int error() const { return ok() ? 0 : std::get<1>(v_).code; }

 private:
  std::variant<T, Errno> v_;
};

// For calls that return nothing but can fail.
struct Ok {
  friend bool operator==(Ok, Ok) = default;
};
using SysStatus = SysResult<Ok>;

}  // namespace synack::stack
