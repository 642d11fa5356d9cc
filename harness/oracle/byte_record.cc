#include "harness/oracle/byte_record.h"

#include <algorithm>
#include <iterator>

namespace synack::oracle {
namespace {

std::int64_t chunk_end(std::int64_t start, const ByteFifo& bytes) {
  return start + static_cast<std::int64_t>(bytes.size());
}

std::size_t to_index(std::int64_t n) { return static_cast<std::size_t>(n); }

}  // namespace

void ByteFifo::drop_front(std::size_t n) {
  head_ += std::min(n, size());
  // Move the live bytes down once the dropped prefix is the larger part: O(1) amortized.
  if (head_ == buf_.size()) {
    buf_.clear();
    head_ = 0;
  } else if (head_ > buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void IntervalSet::add(std::int64_t begin, std::int64_t end) {
  if (begin >= end) return;
  auto it = runs_.upper_bound(begin);
  if (it != runs_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) it = prev;  // overlaps or touches: merge
  }
  while (it != runs_.end() && it->first <= end) {
    begin = std::min(begin, it->first);
    end = std::max(end, it->second);
    it = runs_.erase(it);
  }
  runs_.emplace(begin, end);
}

bool IntervalSet::contains(std::int64_t pos) const {
  auto it = runs_.upper_bound(pos);
  if (it == runs_.begin()) return false;
  --it;
  return pos < it->second;
}

std::int64_t IntervalSet::next_change(std::int64_t pos) const {
  auto it = runs_.upper_bound(pos);
  if (it != runs_.begin()) {
    const auto prev = std::prev(it);
    if (pos < prev->second) return prev->second;  // inside: its end
  }
  return it == runs_.end() ? std::numeric_limits<std::int64_t>::max() : it->first;
}

std::optional<Stretch> IntervalSet::first() const {
  if (runs_.empty()) return std::nullopt;
  return Stretch{runs_.begin()->first, runs_.begin()->second};
}

void IntervalSet::forget_below(std::int64_t pos) {
  while (!runs_.empty() && runs_.begin()->second <= pos) runs_.erase(runs_.begin());
  if (!runs_.empty() && runs_.begin()->first < pos) {
    const std::int64_t end = runs_.begin()->second;
    runs_.erase(runs_.begin());
    runs_.emplace(pos, end);
  }
}

void ContiguousSpace::add(std::int64_t begin, std::int64_t end) {
  if (begin >= end) return;
  if (begin > end_) {
    ahead_.add(begin, end);
    return;
  }
  end_ = std::max(end_, end);
  // Whatever was waiting beyond a hole that is now filled joins the contiguous part.
  for (auto f = ahead_.first(); f && f->begin <= end_; f = ahead_.first()) {
    end_ = std::max(end_, f->end);
    ahead_.forget_below(end_);
  }
}

void ByteRecord::put(std::int64_t pos, std::span<const std::uint8_t> data, PutResult& r) {
  r.fresh.clear();
  r.differing.clear();
  r.first_mismatch.reset();
  const std::int64_t end = pos + static_cast<std::int64_t>(data.size());
  const std::int64_t begin = std::max(pos, floor_);
  if (begin >= end) return;

  auto note_difference = [&r](std::int64_t at, std::uint8_t recorded, std::uint8_t seen) {
    if (!r.first_mismatch) r.first_mismatch = Mismatch{at, recorded, seen};
    if (!r.differing.empty() && r.differing.back().end == at) {
      r.differing.back().end = at + 1;
    } else {
      r.differing.push_back({at, at + 1});
    }
  };

  std::int64_t cur = begin;
  auto it = chunks_.upper_bound(begin);
  if (it != chunks_.begin()) {
    auto prev = std::prev(it);
    if (chunk_end(prev->first, prev->second) > begin) it = prev;
  }
  for (; it != chunks_.end() && it->first < end; ++it) {
    const std::int64_t cs = it->first;
    const std::int64_t ce = std::min(chunk_end(cs, it->second), end);
    if (cs > cur) r.fresh.push_back({cur, cs});
    const std::int64_t from = std::max(cs, cur);
    if (from < ce) {
      // A copy that matches (the usual case) costs one comparison of the stretch.
      const std::uint8_t* seen = data.data() + to_index(from - pos);
      const std::size_t n = to_index(ce - from);
      const std::uint8_t* recorded = it->second.data() + to_index(from - cs);
      if (!std::equal(seen, seen + n, recorded)) {
        for (std::size_t k = 0; k < n; ++k) {
          if (recorded[k] != seen[k]) {
            note_difference(from + static_cast<std::int64_t>(k), recorded[k], seen[k]);
          }
        }
      }
    }
    cur = std::max(cur, ce);
  }
  if (cur < end) r.fresh.push_back({cur, end});
  for (const Stretch& f : r.fresh) {
    insert(f.begin, data.subspan(to_index(f.begin - pos), to_index(f.end - f.begin)));
  }
}

void ByteRecord::insert(std::int64_t pos, std::span<const std::uint8_t> data) {
  size_ += data.size();
  auto next = chunks_.lower_bound(pos);
  auto target = chunks_.end();
  if (next != chunks_.begin()) {
    auto prev = std::prev(next);
    if (chunk_end(prev->first, prev->second) == pos) {
      prev->second.append(data);
      target = prev;
    }
  }
  if (target == chunks_.end()) {
    target = chunks_.emplace_hint(next, pos, Chunk());
    target->second.append(data);
  }
  if (next != chunks_.end() && chunk_end(target->first, target->second) == next->first) {
    target->second.append({next->second.data(), next->second.size()});
    chunks_.erase(next);
  }
}

std::optional<std::uint8_t> ByteRecord::at(std::int64_t pos) const {
  auto it = chunks_.upper_bound(pos);
  if (it == chunks_.begin()) return std::nullopt;
  --it;
  if (pos >= chunk_end(it->first, it->second)) return std::nullopt;
  return it->second[to_index(pos - it->first)];
}

std::span<const std::uint8_t> ByteRecord::run_at(std::int64_t pos) const {
  auto it = chunks_.upper_bound(pos);
  if (it == chunks_.begin()) return {};
  --it;
  if (pos >= chunk_end(it->first, it->second)) return {};
  const std::size_t skip = to_index(pos - it->first);
  return {it->second.data() + skip, it->second.size() - skip};
}

void ByteRecord::forget_below(std::int64_t pos) {
  if (pos <= floor_) return;
  floor_ = pos;
  while (!chunks_.empty() && chunk_end(chunks_.begin()->first, chunks_.begin()->second) <= pos) {
    size_ -= chunks_.begin()->second.size();
    chunks_.erase(chunks_.begin());
  }
  if (!chunks_.empty() && chunks_.begin()->first < pos) {
    const std::size_t drop = to_index(pos - chunks_.begin()->first);
    // Re-keyed in its node: O(1), keeps the bytes' storage and the node's.
    auto node = chunks_.extract(chunks_.begin());
    node.key() = pos;
    node.mapped().drop_front(drop);
    size_ -= drop;
    chunks_.insert(chunks_.begin(), std::move(node));
  }
}

}  // namespace synack::oracle
