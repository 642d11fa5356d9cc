// A FIFO of bytes for the send and receive buffers: contiguous (so a segment's payload is one
// span), appended at the back, consumed from the front, and free of allocation until first used
// (a std::deque allocates on construction; a TCB has two of these).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace synack::stack {

class ByteQueue {
 public:
  std::size_t size() const { return buf_.size() - head_; }
  bool empty() const { return size() == 0; }
  // The bytes from `offset` (relative to the front), `length` of them.
  std::span<const std::uint8_t> view(std::size_t offset, std::size_t length) const {
    return std::span<const std::uint8_t>(buf_).subspan(head_ + offset, length);
  }
  void append(std::span<const std::uint8_t> bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }
  void consume(std::size_t n) {
    head_ += n;
    // Move the live bytes down once the consumed prefix is the larger part: O(1) amortized.
    if (head_ == buf_.size()) {
      buf_.clear();
      head_ = 0;
    } else if (head_ > buf_.size() / 2) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {
    buf_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::uint8_t> buf_;
  std::size_t head_ = 0;
};

}  // namespace synack::stack
