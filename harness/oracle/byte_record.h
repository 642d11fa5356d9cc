// Sparse records of a byte stream and of sequence space, indexed by 64-bit stream positions.
//
// The oracle turns 32-bit sequence numbers into positions (position 0 is a side's ISN) so that
// a stream longer than 4 GiB, and data far outside any window that a fuzzer injects, stay cheap
// and unambiguous. Both classes cost memory in proportion to what they hold, never to the span
// of positions they cover.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace synack::oracle {

// Bytes appended at the back and dropped from the front: contiguous (a stretch compares with one
// memcmp), O(1) amortized at both ends, and free of allocation until first used (a std::deque
// allocates when constructed, and the oracle makes a few per connection it follows).
class ByteFifo {
 public:
  std::size_t size() const { return buf_.size() - head_; }
  bool empty() const { return size() == 0; }
  const std::uint8_t* data() const { return buf_.data() + head_; }
  const std::uint8_t* begin() const { return data(); }
  const std::uint8_t* end() const { return buf_.data() + buf_.size(); }
  std::uint8_t operator[](std::size_t i) const { return buf_[head_ + i]; }
  void append(std::span<const std::uint8_t> bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }
  void drop_front(std::size_t n);
  void clear() {
    buf_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::uint8_t> buf_;
  std::size_t head_ = 0;  // bytes dropped from buf_'s front, not yet moved out
};

// A half-open range of positions [begin, end).
struct Stretch {
  std::int64_t begin = 0;
  std::int64_t end = 0;
  friend bool operator==(const Stretch&, const Stretch&) = default;
};

// A set of positions kept as disjoint, non-adjacent stretches.
class IntervalSet {
 public:
  void add(std::int64_t begin, std::int64_t end);
  bool contains(std::int64_t pos) const;
  // The first position above `pos` where contains() gives another answer than at `pos` (the
  // largest position when there is none).
  std::int64_t next_change(std::int64_t pos) const;
  // The lowest stretch, if any.
  std::optional<Stretch> first() const;
  // Forgets every position below `pos`.
  void forget_below(std::int64_t pos);
  bool empty() const { return runs_.empty(); }
  std::size_t run_count() const { return runs_.size(); }

 private:
  std::map<std::int64_t, std::int64_t> runs_;  // begin -> end
};

// Positions filled contiguously from a start, plus stretches filled further on: how far one side
// has sent sequence space without a hole.
class ContiguousSpace {
 public:
  explicit ContiguousSpace(std::int64_t start = 0) : end_(start) {}
  void add(std::int64_t begin, std::int64_t end);
  // First position not filled contiguously from the start.
  std::int64_t end() const { return end_; }

 private:
  std::int64_t end_;
  IntervalSet ahead_;  // filled stretches beyond end_
};

// The first copy of each byte seen at each position. A later copy is compared with it.
class ByteRecord {
 public:
  struct Mismatch {
    std::int64_t pos = 0;
    std::uint8_t recorded = 0;  // the first copy
    std::uint8_t seen = 0;      // the copy that differs
  };
  struct PutResult {
    std::vector<Stretch> fresh;      // positions recorded by this call (not seen before)
    std::vector<Stretch> differing;  // positions whose new copy differs from the record
    std::optional<Mismatch> first_mismatch;
  };

  // Records `data` at [pos, pos + data.size()). Positions below floor() are ignored.
  PutResult put(std::int64_t pos, std::span<const std::uint8_t> data) {
    PutResult r;
    put(pos, data, r);
    return r;
  }
  // The same into `r` (cleared first): a caller that passes the same result every time keeps
  // its lists' storage, and a put allocates nothing beyond the bytes it records.
  void put(std::int64_t pos, std::span<const std::uint8_t> data, PutResult& r);
  std::optional<std::uint8_t> at(std::int64_t pos) const;
  // The recorded bytes from `pos` on, as far as they run without a gap (empty when the byte at
  // `pos` is not recorded).
  std::span<const std::uint8_t> run_at(std::int64_t pos) const;
  // Forgets every byte below `pos`; later copies of them are ignored.
  void forget_below(std::int64_t pos);
  std::int64_t floor() const { return floor_; }
  // Bytes held.
  std::size_t size() const { return size_; }

 private:
  using Chunk = ByteFifo;
  void insert(std::int64_t pos, std::span<const std::uint8_t> data);

  std::map<std::int64_t, Chunk> chunks_;  // start -> bytes; disjoint and non-adjacent
  std::int64_t floor_ = std::numeric_limits<std::int64_t>::min();
  std::size_t size_ = 0;
};

}  // namespace synack::oracle
