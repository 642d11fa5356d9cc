#include "stack/tcp/reassembly.h"

#include <algorithm>
#include <string>
#include <utility>

namespace synack::stack {

namespace {

std::string seq_str(SeqNum s) { return std::to_string(s.value()); }

bool fail(std::string* why, std::string message) {
  if (why != nullptr) *why = std::move(message);
  return false;
}

}  // namespace

void ReassemblyQueue::insert(SeqNum rcv_nxt, SeqNum right_edge, SeqNum seq,
                             std::span<const std::uint8_t> data, bool fin) {
  drop_below(rcv_nxt);
  // Offsets from rcv_nxt, in 64 bits so that no sum below can wrap. RCV.WND is below 2^31
  // (RFC 7323 2.3 caps the scaled window at 2^30); a right edge before rcv_nxt is a zero window.
  const std::int64_t window =
      right_edge.before(rcv_nxt) ? 0 : std::int64_t{distance(rcv_nxt, right_edge)};
  const std::int64_t seg_begin = seq.minus(rcv_nxt);
  const std::int64_t seg_end = seg_begin + static_cast<std::int64_t>(data.size());
  // RFC 9293 3.10.7.4, first step: only the part of the segment inside the window is kept (bytes
  // before RCV.NXT are old duplicates, bytes at or past the right edge are beyond the window),
  // and nothing past a queued FIN.
  std::int64_t limit = window;
  if (fin_.has_value()) limit = std::min(limit, std::int64_t{distance(rcv_nxt, *fin_)});
  const std::int64_t lo = std::max<std::int64_t>(seg_begin, 0);
  const std::int64_t hi = std::min(seg_end, limit);

  const std::uint64_t stamp = ++clock_;
  if (lo < hi) {
    store(rcv_nxt + static_cast<std::uint32_t>(lo),
          data.subspan(static_cast<std::size_t>(lo - seg_begin), static_cast<std::size_t>(hi - lo)),
          stamp);
  }
  // The FIN occupies seq + len (RFC 9293 3.4) and is trimmed off with the rest of what lies
  // outside the window (3.10.7.4, first step): it is kept only if that sequence number is in the
  // window, so every byte of the segment before it fitted too, and only if nothing contradicts
  // it: no data queued past it and no FIN queued elsewhere.
  if (!fin || seg_end < 0 || seg_end >= window) return;
  const SeqNum fin_seq = rcv_nxt + static_cast<std::uint32_t>(seg_end);
  if (fin_.has_value() && *fin_ != fin_seq) return;
  if (!ranges_.empty() && ranges_.back().right().after(fin_seq)) return;
  fin_ = fin_seq;
  fin_stamp_ = stamp;
}

void ReassemblyQueue::store(SeqNum left, std::span<const std::uint8_t> bytes, std::uint64_t stamp) {
  const SeqNum right = left + static_cast<std::uint32_t>(bytes.size());
  // [first, last): the ranges that overlap [left, right) or touch it at either end.
  const auto first = std::partition_point(ranges_.begin(), ranges_.end(),
                                          [&](const Range& r) { return r.right().before(left); });
  const auto last = std::partition_point(first, ranges_.end(),
                                         [&](const Range& r) { return r.left.before_eq(right); });
  if (first == last) {
    ranges_.insert(first,
                   Range{left, std::vector<std::uint8_t>(bytes.begin(), bytes.end()), stamp});
    bytes_ += bytes.size();
  } else {
    // Grow *first to cover the union, taking from the new segment only what was not held.
    Range& m = *first;
    const auto piece = [&](SeqNum from, SeqNum to) {
      return bytes.subspan(distance(left, from), distance(from, to));
    };
    const SeqNum new_left = left.before(m.left) ? left : m.left;
    const SeqNum tail_right = std::prev(last)->right();
    const SeqNum new_right = right.after(tail_right) ? right : tail_right;
    m.data.reserve(distance(new_left, new_right));
    if (left.before(m.left)) {
      const auto head = piece(left, m.left);
      m.data.insert(m.data.begin(), head.begin(), head.end());
      bytes_ += head.size();
      m.left = left;
    }
    for (auto it = std::next(first); it != last; ++it) {
      const auto gap = piece(m.right(), it->left);
      m.data.insert(m.data.end(), gap.begin(), gap.end());
      m.data.insert(m.data.end(), it->data.begin(), it->data.end());
      bytes_ += gap.size();  // it->data was counted already
    }
    if (right.after(m.right())) {
      const auto tail = piece(m.right(), right);
      m.data.insert(m.data.end(), tail.begin(), tail.end());
      bytes_ += tail.size();
    }
    m.stamp = stamp;  // the newest stamp there is, so the merged range keeps the most recent
    ranges_.erase(std::next(first), last);
  }
  // The range cap: forget the range furthest from RCV.NXT (the file comment says why).
  while (ranges_.size() > kMaxRanges) {
    bytes_ -= ranges_.back().data.size();
    ranges_.pop_back();
  }
}

void ReassemblyQueue::drop_below(SeqNum rcv_nxt) {
  std::size_t gone = 0;
  while (gone < ranges_.size() && ranges_[gone].right().before_eq(rcv_nxt)) {
    bytes_ -= ranges_[gone].data.size();
    ++gone;
  }
  ranges_.erase(ranges_.begin(), ranges_.begin() + static_cast<std::ptrdiff_t>(gone));
  if (!ranges_.empty() && ranges_.front().left.before(rcv_nxt)) {
    Range& r = ranges_.front();
    const std::uint32_t stale = distance(r.left, rcv_nxt);
    r.data.erase(r.data.begin(), r.data.begin() + static_cast<std::ptrdiff_t>(stale));
    bytes_ -= stale;
    r.left = rcv_nxt;
  }
  if (fin_.has_value() && fin_->before(rcv_nxt)) fin_.reset();
}

std::size_t ReassemblyQueue::take_in_order(SeqNum& rcv_nxt, ByteQueue& out, bool& fin) {
  std::size_t moved = 0;
  std::size_t done = 0;  // ranges delivered or stale, all at the front
  for (; done < ranges_.size(); ++done) {
    const Range& r = ranges_[done];
    if (r.left.after(rcv_nxt)) break;  // a hole remains before it
    if (r.right().after(rcv_nxt)) {
      const std::size_t skip = distance(r.left, rcv_nxt);
      out.append(std::span<const std::uint8_t>(r.data).subspan(skip));
      moved += r.data.size() - skip;
      rcv_nxt = r.right();
    }
    bytes_ -= r.data.size();
  }
  ranges_.erase(ranges_.begin(), ranges_.begin() + static_cast<std::ptrdiff_t>(done));
  if (fin_.has_value()) {
    if (*fin_ == rcv_nxt) {
      // RFC 9293 3.10.7.4, eighth step: the FIN is processed once everything before it has
      // arrived, and advances RCV.NXT over itself.
      fin = true;
      rcv_nxt += 1;
      fin_.reset();
    } else if (fin_->before(rcv_nxt)) {
      fin_.reset();  // the caller's in-order data ran past it
    }
  }
  return moved;
}

bool ReassemblyQueue::fin_alone() const {
  return fin_.has_value() && (ranges_.empty() || *fin_ != ranges_.back().right());
}

std::size_t ReassemblyQueue::blocks() const { return ranges_.size() + (fin_alone() ? 1U : 0U); }

void ReassemblyQueue::clear() {
  ranges_.clear();
  bytes_ = 0;
  fin_.reset();
  fin_stamp_ = 0;
}

ReassemblyQueue::Block ReassemblyQueue::block_at(std::size_t i) const {
  if (i == ranges_.size()) return Block{SackBlock{*fin_, *fin_ + 1}, fin_stamp_};  // FIN alone
  const Range& r = ranges_[i];
  Block b{SackBlock{r.left, r.right()}, r.stamp};
  if (i + 1 == ranges_.size() && fin_.has_value() && *fin_ == b.edges.right) {
    b.edges.right = b.edges.right + 1;
    b.stamp = std::max(b.stamp, fin_stamp_);
  }
  return b;
}

std::size_t ReassemblyQueue::sack_blocks(SackBlock* out, std::size_t max) const {
  // Selection by descending (stamp, index): there are at most kMaxRanges + 1 blocks and an
  // option has room for four, so this beats sorting and needs no scratch space.
  const std::size_t n = blocks();
  std::size_t count = 0;
  std::uint64_t prev_stamp = 0;
  std::size_t prev_index = 0;
  for (; count < max && count < n; ++count) {
    bool found = false;
    std::uint64_t best_stamp = 0;
    std::size_t best_index = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t s = block_at(i).stamp;
      const bool below_prev = count == 0 || s < prev_stamp || (s == prev_stamp && i < prev_index);
      const bool better = !found || s > best_stamp || (s == best_stamp && i > best_index);
      if (below_prev && better) {
        found = true;
        best_stamp = s;
        best_index = i;
      }
    }
    out[count] = block_at(best_index).edges;
    prev_stamp = best_stamp;
    prev_index = best_index;
  }
  return count;
}

bool ReassemblyQueue::check(SeqNum rcv_nxt, SeqNum right_edge, std::string* why) const {
  if (ranges_.size() > kMaxRanges) {
    return fail(why, "reassembly: " + std::to_string(ranges_.size()) + " ranges, more than " +
                         std::to_string(kMaxRanges));
  }
  std::size_t total = 0;
  SeqNum floor = rcv_nxt;  // each range must start after this: rcv_nxt, then the previous end
  for (std::size_t i = 0; i < ranges_.size(); ++i) {
    const Range& r = ranges_[i];
    // Named only for a failure: the check runs after every segment.
    auto name = [&] {
      return "reassembly: range " + std::to_string(i) + " [" + seq_str(r.left) + ", " +
             seq_str(r.right()) + ")";
    };
    if (r.data.empty()) return fail(why, name() + " is empty");
    if (r.data.size() >= (std::size_t{1} << 31)) return fail(why, name() + " spans 2^31 or more");
    if (!r.left.after(floor)) {
      return fail(why, name() + " does not start after " + seq_str(floor) +
                           (i == 0 ? " (rcv_nxt)" : " (the previous range's end)"));
    }
    if (r.right().after(right_edge)) {
      return fail(why, name() + " ends after the window's right edge " + seq_str(right_edge));
    }
    floor = r.right();
    total += r.data.size();
  }
  if (total != bytes_) {
    return fail(why, "reassembly: byte count " + std::to_string(bytes_) + " but the ranges hold " +
                         std::to_string(total));
  }
  if (fin_.has_value()) {
    auto name = [&] { return "reassembly: FIN at " + seq_str(*fin_); };
    if (fin_->before(rcv_nxt)) return fail(why, name() + " is before rcv_nxt " + seq_str(rcv_nxt));
    if (!ranges_.empty() && fin_->before(ranges_.back().right())) {
      return fail(why,
                  name() + " is before the last range's end " + seq_str(ranges_.back().right()));
    }
    if (!fin_->before(right_edge)) {
      return fail(why, name() + " is not before the window's right edge " + seq_str(right_edge));
    }
  }
  return true;
}

}  // namespace synack::stack
