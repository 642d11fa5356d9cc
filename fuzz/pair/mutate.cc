// pair_fuzzer's custom mutator: decodes, changes one thing at the level of the format (a header
// field; an action changed, inserted, deleted, duplicated or swapped), encodes (pair.h).
#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

#include "fuzz/pair/pair.h"

namespace synack::fuzz::pair {

namespace {

// splitmix64: small, and the same everywhere.
class MutationRng {
 public:
  explicit MutationRng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for the small n used here.
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
  std::uint16_t between(unsigned lo, unsigned hi) {
    return static_cast<std::uint16_t>(lo + below(hi - lo + 1));
  }
  bool one_in(std::size_t n) { return below(n) == 0; }

 private:
  std::uint64_t state_;
};

// Arguments drawn where behaviour changes: writes around segment and window sizes, corruption
// mostly in the headers, delays around the RTO, time steps from delayed ACK to max RTO.
std::uint16_t random_arg(Kind k, MutationRng& r) {
  switch (k) {
    case Kind::kWrite:
      switch (r.below(5)) {
        case 0:
          return r.between(0, 10);
        case 1:
          return r.between(1, 600);
        case 2:
          return r.between(1000, 3000);
        case 3:
          return r.between(3000, arg_limit(k));
        default:
          return static_cast<std::uint16_t>(kMssChoices[r.below(kMssChoices.size())] %
                                            (arg_limit(k) + 1U));
      }
    case Kind::kRead:
      return r.one_in(3) ? r.between(0, 100) : r.one_in(2) ? 65535 : r.between(0, 65535);
    case Kind::kCorrupt:
      return r.one_in(4) ? r.between(0, 65535) : r.between(0, 60 * 8);
    case Kind::kDelay:
      return r.one_in(2) ? r.between(0, 400) : r.between(0, 65535);
    default:
      return r.between(0, arg_limit(k));
  }
}

Action random_action(MutationRng& r) {
  // Weights: mostly packet deliveries and writes, so that data moves; enough faults and time.
  static constexpr std::array<std::pair<Kind, unsigned>, kKindCount> kWeights = {{
      {Kind::kWrite, 12},
      {Kind::kRead, 10},
      {Kind::kShutdown, 2},
      {Kind::kClose, 2},
      {Kind::kDeliver, 18},
      {Kind::kDeliverAll, 8},
      {Kind::kDrop, 6},
      {Kind::kDuplicate, 4},
      {Kind::kReorder, 4},
      {Kind::kCorrupt, 3},
      {Kind::kDelay, 4},
      {Kind::kAdvanceTiny, 5},
      {Kind::kAdvanceTimer, 9},
      {Kind::kAdvanceToEvent, 8},
  }};
  unsigned total = 0;
  for (const auto& [kind, w] : kWeights) total += w;
  std::size_t pick = r.below(total);
  Action a;
  for (const auto& [kind, w] : kWeights) {
    if (pick < w) {
      a.kind = kind;
      break;
    }
    pick -= w;
  }
  a.side = r.one_in(2) ? Side::kA : Side::kB;
  a.arg = random_arg(a.kind, r);
  return a;
}

void mutate_header(Header& h, MutationRng& r) {
  switch (r.below(12)) {
    case 0:
      h.a_connects = !h.a_connects;
      break;
    case 1:
      h.a_timestamps = !h.a_timestamps;
      break;
    case 2:
      h.a_sack = !h.a_sack;
      break;
    case 3:
      h.b_timestamps = !h.b_timestamps;
      break;
    case 4:
      h.b_sack = !h.b_sack;
      break;
    case 5:
      h.a_mss = static_cast<std::uint8_t>(r.below(kMssChoices.size()));
      break;
    case 6:
      h.b_mss = static_cast<std::uint8_t>(r.below(kMssChoices.size()));
      break;
    case 7:
      h.a_rcv_buf = static_cast<std::uint8_t>(r.below(kBufferChoices.size()));
      break;
    case 8:
      h.a_snd_buf = static_cast<std::uint8_t>(r.below(kBufferChoices.size()));
      break;
    case 9:
      h.b_rcv_buf = static_cast<std::uint8_t>(r.below(kBufferChoices.size()));
      break;
    case 10:
      h.b_snd_buf = static_cast<std::uint8_t>(r.below(kBufferChoices.size()));
      break;
    default:
      h.b_wscale = static_cast<std::uint8_t>(r.below(15));
      break;
  }
}

void mutate_action(Action& a, MutationRng& r) {
  switch (r.below(4)) {
    case 0:
      a.side = other(a.side);
      break;
    case 1:
      a.kind = static_cast<Kind>(r.below(kKindCount));
      a.arg = random_arg(a.kind, r);
      break;
    case 2:
      a.arg = random_arg(a.kind, r);
      break;
    default: {
      // A small step from the current value: finds boundaries (one byte more, one bit over).
      const int delta = static_cast<int>(r.below(17)) - 8;
      const int v = std::clamp(int{a.arg} + delta, 0, int{arg_limit(a.kind)});
      a.arg = static_cast<std::uint16_t>(v);
      break;
    }
  }
}

void mutate_program(Program& p, MutationRng& r) {
  std::vector<Action>& acts = p.actions;
  const std::size_t n = acts.size();
  const std::size_t op = n == 0 ? 2 : r.below(10);
  switch (op) {
    case 0:
      mutate_header(p.header, r);
      break;
    case 1:
    case 7:
      mutate_action(acts[r.below(n)], r);
      break;
    case 2:
    case 3: {
      const std::size_t count = r.one_in(4) ? 1 + r.below(4) : 1;
      const std::size_t at = r.below(n + 1);
      for (std::size_t i = 0; i < count; ++i) {
        acts.insert(acts.begin() + static_cast<std::ptrdiff_t>(at), random_action(r));
      }
      break;
    }
    case 4:
    case 8: {
      const std::size_t at = r.below(n);
      const std::size_t count = std::min(n - at, r.one_in(4) ? 1 + r.below(8) : std::size_t{1});
      acts.erase(acts.begin() + static_cast<std::ptrdiff_t>(at),
                 acts.begin() + static_cast<std::ptrdiff_t>(at + count));
      break;
    }
    case 5: {
      // Duplicates a run of actions in place: repeats a pattern (write, deliver, advance).
      const std::size_t at = r.below(n);
      const std::size_t count = std::min(n - at, 1 + r.below(8));
      const std::vector<Action> run(acts.begin() + static_cast<std::ptrdiff_t>(at),
                                    acts.begin() + static_cast<std::ptrdiff_t>(at + count));
      acts.insert(acts.begin() + static_cast<std::ptrdiff_t>(at + count), run.begin(), run.end());
      break;
    }
    default:
      std::swap(acts[r.below(n)], acts[r.below(n)]);
      break;
  }
}

// Copies the encoding of `p` into `out`, dropping actions from the end until it fits.
std::size_t emit_within(Program& p, std::uint8_t* out, std::size_t max_size) {
  while (!p.actions.empty() && encoded_size(p) > max_size) p.actions.pop_back();
  const std::vector<std::uint8_t> bytes = encode(p);
  // Only the header can still be too long (max_size < kHeaderSize); a cut header decodes too.
  const std::size_t n = std::min(bytes.size(), max_size);
  std::copy_n(bytes.begin(), n, out);
  return n;
}

}  // namespace

std::size_t mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  MutationRng r(seed);
  Program p = decode({data, size});
  const std::size_t rounds = r.one_in(3) ? 1 + r.below(4) : 1;
  for (std::size_t i = 0; i < rounds; ++i) mutate_program(p, r);
  return emit_within(p, data, max_size);
}

std::size_t cross_over(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
                       std::uint8_t* out, std::size_t max_out_size, unsigned seed) {
  MutationRng r(seed);
  Program pa = decode(a);
  const Program pb = decode(b);
  if (r.one_in(2)) pa.header = pb.header;
  const std::size_t keep = r.below(pa.actions.size() + 1);
  const std::size_t from = r.below(pb.actions.size() + 1);
  pa.actions.resize(keep);
  pa.actions.insert(pa.actions.end(), pb.actions.begin() + static_cast<std::ptrdiff_t>(from),
                    pb.actions.end());
  if (pa.actions.size() > kMaxActions) pa.actions.resize(kMaxActions);
  return emit_within(pa, out, max_out_size);
}

}  // namespace synack::fuzz::pair
