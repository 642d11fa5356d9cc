#include "fuzz/session/trace.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace synack::fuzz::session {
namespace {

constexpr std::size_t kHeaderSize = 4;
constexpr std::size_t kSegmentBody = 29;
constexpr std::size_t kAdvanceBody = 5;
constexpr std::size_t kCallBody = 6;
constexpr std::size_t kIcmpBody = 11;

class Reader {
 public:
  Reader(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  bool has(std::size_t k) const { return n_ - i_ >= k; }
  std::uint8_t u8() { return d_[i_++]; }
  std::uint16_t u16() {
    const auto v = static_cast<std::uint16_t>(d_[i_] | (d_[i_ + 1] << 8));
    i_ += 2;
    return v;
  }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | d_[i_ + static_cast<std::size_t>(k)];
    i_ += 4;
    return v;
  }

 private:
  const std::uint8_t* d_;
  std::size_t n_;
  std::size_t i_ = 0;
};

void put8(std::vector<std::uint8_t>& o, std::uint8_t v) { o.push_back(v); }
void put16(std::vector<std::uint8_t>& o, std::uint16_t v) {
  o.push_back(static_cast<std::uint8_t>(v));
  o.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(std::vector<std::uint8_t>& o, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) o.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

template <class E>
E enum_of(std::uint8_t v) {
  return static_cast<E>(v % static_cast<std::uint8_t>(E::kCount));
}

Config decode_config(Reader& r) {
  Config c;
  const std::uint8_t f = r.u8();
  c.timestamps = (f & 1) != 0;
  c.sack = (f & 2) != 0;
  c.syncookies = static_cast<std::uint8_t>(((f >> 2) & 3) % 3);
  c.abort_on_overflow = (f & 16) != 0;
  c.slow_start_after_idle = (f & 32) == 0;
  c.retries2 = static_cast<std::uint8_t>(1 + r.u8() % 15);
  const std::uint8_t k = r.u8();
  c.keepalive = static_cast<std::uint8_t>(k % 121);  // 0 (default) or 1..120 s
  r.u8();                                            // reserved
  return c;
}

void encode_config(const Config& c, std::vector<std::uint8_t>& o) {
  put8(o, static_cast<std::uint8_t>((c.timestamps ? 1 : 0) | (c.sack ? 2 : 0) |
                                    ((c.syncookies % 3) << 2) | (c.abort_on_overflow ? 16 : 0) |
                                    (c.slow_start_after_idle ? 0 : 32)));
  put8(o, static_cast<std::uint8_t>(c.retries2 - 1));
  put8(o, c.keepalive);
  put8(o, 0);
}

Segment decode_segment(Reader& r) {
  Segment s;
  s.flow = static_cast<std::uint8_t>(r.u8() % kFlows);
  s.flags = r.u8();
  s.seq_anchor = enum_of<SeqAnchor>(r.u8());
  s.seq_offset = static_cast<std::int32_t>(r.u32());
  s.ack_anchor = enum_of<AckAnchor>(r.u8());
  s.ack_offset = static_cast<std::int32_t>(r.u32());
  s.window = r.u16();
  s.options = static_cast<std::uint8_t>(r.u8() & opt::kAll);
  s.mss = r.u16();
  s.wscale = r.u8();
  s.tsval_step = static_cast<std::int16_t>(r.u16());
  s.sack_offset = static_cast<std::int16_t>(r.u16());
  s.sack_length = r.u16();
  s.payload_length = static_cast<std::uint16_t>(r.u16() % (kMaxPayload + 1));
  s.urgent_pointer = r.u16();
  s.bad_checksum = (r.u8() & 1) != 0;
  return s;
}

void encode_segment(const Segment& s, std::vector<std::uint8_t>& o) {
  put8(o, s.flow);
  put8(o, s.flags);
  put8(o, static_cast<std::uint8_t>(s.seq_anchor));
  put32(o, static_cast<std::uint32_t>(s.seq_offset));
  put8(o, static_cast<std::uint8_t>(s.ack_anchor));
  put32(o, static_cast<std::uint32_t>(s.ack_offset));
  put16(o, s.window);
  put8(o, s.options);
  put16(o, s.mss);
  put8(o, s.wscale);
  put16(o, static_cast<std::uint16_t>(s.tsval_step));
  put16(o, static_cast<std::uint16_t>(s.sack_offset));
  put16(o, s.sack_length);
  put16(o, s.payload_length);
  put16(o, s.urgent_pointer);
  put8(o, s.bad_checksum ? 1 : 0);
}

// A small, fast, seedable generator (splitmix64): the mutator must be deterministic.
class Rng {
 public:
  explicit Rng(unsigned seed) : s_(seed * 0x9e3779b97f4a7c15ULL + 1) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint32_t below(std::uint32_t n) {
    return n == 0 ? 0 : static_cast<std::uint32_t>(next() % n);
  }
  bool chance(unsigned percent) { return below(100) < percent; }

 private:
  std::uint64_t s_;
};

// Offsets near the interesting edges: exactly on the anchor, a byte or two off, about a window
// away, anywhere, or across the 2^31 comparison edge of sequence arithmetic.
std::int32_t pick_offset(Rng& r) {
  switch (r.below(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
      return 0;
    case 4:
    case 5:
      return static_cast<std::int32_t>(r.below(7)) - 3;
    case 6:
    case 7: {
      const auto v = static_cast<std::int32_t>(r.below(140000));
      return v - 70000;
    }
    case 8:
      return static_cast<std::int32_t>(r.next());
    default:
      return static_cast<std::int32_t>(0x80000000U + r.below(5) - 2);
  }
}

// An offset moved by -2..2, wrapping (sequence arithmetic is modulo 2^32).
std::int32_t nudge(std::int32_t v, Rng& r) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(v) + r.below(5) - 2U);
}

std::uint8_t pick_flags(Rng& r) {
  constexpr std::array<std::uint8_t, 12> kCommon = {0x10, 0x10, 0x18, 0x18, 0x02, 0x12,
                                                    0x11, 0x19, 0x04, 0x14, 0x01, 0x30};
  if (r.chance(85)) return kCommon[r.below(kCommon.size())];
  return static_cast<std::uint8_t>(r.next());
}

Segment random_segment(Rng& r) {
  Segment s;
  s.flow = static_cast<std::uint8_t>(r.chance(70) ? 0 : r.below(kFlows));
  s.flags = pick_flags(r);
  s.seq_anchor =
      r.chance(70) ? SeqAnchor::kRcvNxt : enum_of<SeqAnchor>(static_cast<std::uint8_t>(r.next()));
  s.seq_offset = pick_offset(r);
  s.ack_anchor =
      r.chance(60) ? AckAnchor::kSndNxt : enum_of<AckAnchor>(static_cast<std::uint8_t>(r.next()));
  s.ack_offset = pick_offset(r);
  s.window =
      r.chance(70) ? 65535 : static_cast<std::uint16_t>(r.chance(30) ? r.below(4) : r.next());
  if ((s.flags & 0x02) != 0) {
    s.options = static_cast<std::uint8_t>(
        r.chance(70) ? opt::kMss | opt::kWscale | opt::kSackOk | opt::kTimestamps : r.below(32));
  } else {
    s.options = static_cast<std::uint8_t>(
        r.chance(60) ? opt::kTimestamps : r.below(32) & (opt::kTimestamps | opt::kSack));
  }
  s.mss = static_cast<std::uint16_t>(r.chance(70) ? 1460 : r.below(65536));
  s.wscale = static_cast<std::uint8_t>(r.chance(70) ? 7 : r.below(20));
  s.tsval_step = static_cast<std::int16_t>(r.chance(80) ? r.below(100) : r.next() & 0xffff);
  s.sack_offset = static_cast<std::int16_t>(r.below(6000));
  s.sack_length = static_cast<std::uint16_t>(1 + r.below(3000));
  s.payload_length = static_cast<std::uint16_t>(r.chance(50)   ? 0
                                                : r.chance(70) ? 1 + r.below(1460)
                                                               : r.below(kMaxPayload + 1));
  s.urgent_pointer = static_cast<std::uint16_t>(r.chance(90) ? 0 : r.below(2000));
  s.bad_checksum = r.chance(3);
  return s;
}

Advance random_advance(Rng& r) {
  Advance a;
  const std::uint32_t k = r.below(100);
  a.kind = k < 35   ? Advance::Kind::kTiny
           : k < 65 ? Advance::Kind::kNextDeadline
           : k < 95 ? Advance::Kind::kTimerSized
                    : Advance::Kind::kHuge;
  a.amount = static_cast<std::uint32_t>(r.next());
  return a;
}

Call random_call(Rng& r) {
  Call c;
  constexpr std::array<Call::Op, 20> kOps = {
      Call::Op::kRead,           Call::Op::kRead,        Call::Op::kWrite,
      Call::Op::kWrite,          Call::Op::kWrite,       Call::Op::kAccept,
      Call::Op::kAccept,         Call::Op::kListen,      Call::Op::kConnect,
      Call::Op::kShutdown,       Call::Op::kClose,       Call::Op::kSetsockopt,
      Call::Op::kAbort,          Call::Op::kClose,       Call::Op::kGetsockopt,
      Call::Op::kPoll,           Call::Op::kIoctl,       Call::Op::kSetsockoptMore,
      Call::Op::kGetsockoptMore, Call::Op::kConnectAgain};
  c.op = kOps[r.below(kOps.size())];
  c.slot = static_cast<std::uint8_t>(r.below(4));
  c.arg = static_cast<std::uint32_t>(r.chance(50) ? r.below(3000) : r.next());
  return c;
}

Icmp random_icmp(Rng& r) {
  Icmp m;
  m.flow = static_cast<std::uint8_t>(r.chance(70) ? 0 : r.below(kFlows));
  m.kind = enum_of<Icmp::Kind>(static_cast<std::uint8_t>(r.next()));
  m.anchor =
      r.chance(70) ? AckAnchor::kSndUna : enum_of<AckAnchor>(static_cast<std::uint8_t>(r.next()));
  m.offset = r.chance(70) ? 0 : pick_offset(r);
  m.quoted_length = static_cast<std::uint16_t>(r.chance(50) ? 0 : r.below(kMaxPayload + 1));
  m.mtu = static_cast<std::uint16_t>(r.chance(60) ? 68 + r.below(1500) : r.next());
  return m;
}

Op random_op(Rng& r) {
  const std::uint32_t k = r.below(100);
  if (k < 48) return random_segment(r);
  if (k < 72) return random_advance(r);
  if (k < 95) return random_call(r);
  return random_icmp(r);
}

void mutate_segment(Segment& s, Rng& r) {
  switch (r.below(12)) {
    case 0:
      s.flags ^= static_cast<std::uint8_t>(1U << r.below(8));
      break;
    case 1:
      s.seq_anchor = enum_of<SeqAnchor>(static_cast<std::uint8_t>(r.next()));
      break;
    case 2:
      s.seq_offset = r.chance(50) ? nudge(s.seq_offset, r) : pick_offset(r);
      break;
    case 3:
      s.ack_anchor = enum_of<AckAnchor>(static_cast<std::uint8_t>(r.next()));
      break;
    case 4:
      s.ack_offset = r.chance(50) ? nudge(s.ack_offset, r) : pick_offset(r);
      break;
    case 5:
      s.window = static_cast<std::uint16_t>(r.chance(50) ? r.below(8) : r.next());
      break;
    case 6:
      s.options ^= static_cast<std::uint8_t>(1U << r.below(5));
      break;
    case 7:
      s.payload_length =
          static_cast<std::uint16_t>(r.chance(50) ? r.below(3) : r.below(kMaxPayload + 1));
      break;
    case 8:
      s.flow = static_cast<std::uint8_t>(r.below(kFlows));
      break;
    case 9:
      s.tsval_step = static_cast<std::int16_t>(r.next());
      break;
    case 10:
      if (r.chance(50)) {
        s.mss = static_cast<std::uint16_t>(r.next());
      } else {
        s.wscale = static_cast<std::uint8_t>(r.below(20));
      }
      break;
    default:
      if (r.chance(30)) {
        s.bad_checksum = !s.bad_checksum;
      } else if (r.chance(50)) {
        s.urgent_pointer = static_cast<std::uint16_t>(r.below(3000));
      } else {
        s.sack_offset = static_cast<std::int16_t>(r.next());
        s.sack_length = static_cast<std::uint16_t>(r.below(4000));
      }
  }
}

void mutate_op(Op& op, Rng& r) {
  if (auto* m = std::get_if<Icmp>(&op)) {
    switch (r.below(5)) {
      case 0:
        m->kind = enum_of<Icmp::Kind>(static_cast<std::uint8_t>(r.next()));
        break;
      case 1:
        m->anchor = enum_of<AckAnchor>(static_cast<std::uint8_t>(r.next()));
        break;
      case 2:
        m->offset = r.chance(50) ? nudge(m->offset, r) : pick_offset(r);
        break;
      case 3:
        m->quoted_length = static_cast<std::uint16_t>(r.below(kMaxPayload + 1));
        break;
      default:
        m->mtu = static_cast<std::uint16_t>(r.chance(50) ? m->mtu + r.below(201) - 100 : r.next());
    }
    return;
  }
  if (auto* s = std::get_if<Segment>(&op)) {
    mutate_segment(*s, r);
  } else if (auto* a = std::get_if<Advance>(&op)) {
    if (r.chance(50)) {
      a->kind = enum_of<Advance::Kind>(static_cast<std::uint8_t>(r.next()));
    } else {
      a->amount =
          r.chance(50) ? a->amount + r.below(2001) - 1000 : static_cast<std::uint32_t>(r.next());
    }
  } else if (auto* c = std::get_if<Call>(&op)) {
    switch (r.below(3)) {
      case 0:
        c->op = enum_of<Call::Op>(static_cast<std::uint8_t>(r.next()));
        break;
      case 1:
        c->slot = static_cast<std::uint8_t>(r.below(kMaxSockets));
        break;
      default:
        c->arg = r.chance(50) ? r.below(3000) : static_cast<std::uint32_t>(r.next());
    }
  }
}

void mutate_config(Config& c, Rng& r) {
  switch (r.below(7)) {
    case 0:
      c.timestamps = !c.timestamps;
      break;
    case 1:
      c.sack = !c.sack;
      break;
    case 2:
      c.syncookies = static_cast<std::uint8_t>(r.below(3));
      break;
    case 3:
      c.abort_on_overflow = !c.abort_on_overflow;
      break;
    case 4:
      c.slow_start_after_idle = !c.slow_start_after_idle;
      break;
    case 5:
      c.retries2 = static_cast<std::uint8_t>(1 + r.below(15));
      break;
    default:
      c.keepalive = static_cast<std::uint8_t>(r.below(121));
  }
}

// Writes `t` into out[0, max_size), dropping ops from the end until it fits.
std::size_t store(Trace& t, std::uint8_t* out, std::size_t max_size) {
  std::vector<std::uint8_t> bytes = encode(t);
  while (bytes.size() > max_size && !t.ops.empty()) {
    t.ops.pop_back();
    bytes = encode(t);
  }
  if (bytes.size() > max_size) return 0;
  std::memcpy(out, bytes.data(), bytes.size());
  return bytes.size();
}

const char* seq_anchor_name(SeqAnchor a) {
  switch (a) {
    case SeqAnchor::kPeerIss:
      return "peer_iss";
    case SeqAnchor::kPeerSndNxt:
      return "peer_snd_nxt";
    case SeqAnchor::kRcvNxt:
      return "rcv_nxt";
    default:
      return "rcv_adv";
  }
}

const char* ack_anchor_name(AckAnchor a) {
  switch (a) {
    case AckAnchor::kStackIss:
      return "iss";
    case AckAnchor::kSndUna:
      return "snd_una";
    case AckAnchor::kSndNxt:
      return "snd_nxt";
    case AckAnchor::kSndMax:
      return "snd_max";
    default:
      return "snd_una+snd_wnd";
  }
}

const char* call_name(Call::Op op) {
  constexpr auto kNames = std::to_array<const char*>(
      {"listen", "connect", "accept", "read", "write", "shutdown", "close", "setsockopt", "abort",
       "getsockopt", "poll", "ioctl", "setsockopt-more", "getsockopt-more", "connect-again"});
  static_assert(kNames.size() == static_cast<std::size_t>(Call::Op::kCount));
  return kNames[static_cast<std::size_t>(op) % kNames.size()];
}

}  // namespace

int sockopt_value(std::size_t option, std::uint32_t raw) {
  switch (option) {
    case 0:  // TCP_NODELAY
    case 1:  // SO_KEEPALIVE
      return static_cast<int>(raw & 1);
    case 2:  // TCP_KEEPIDLE
    case 3:  // TCP_KEEPINTVL
      return static_cast<int>(1 + raw % 200);
    case 4:  // TCP_KEEPCNT
      return static_cast<int>(1 + raw % 10);
    case 5:  // SO_RCVBUF
    case 6:  // SO_SNDBUF
      return static_cast<int>(256 + raw % 200000);
    case 7:  // TCP_MAXSEG
      return static_cast<int>(raw % 2000);
    case 8:  // TCP_USER_TIMEOUT (ms)
      return static_cast<int>(raw % 120000);
    case 9:   // SO_REUSEADDR
    case 12:  // SO_ERROR (read-only: any value)
      return static_cast<int>(raw & 1);
    case 10:  // IP_TOS
      return static_cast<int>(raw % 256);
    default:  // IP_TTL: -1 (the default), 0 and 256 (EINVAL) and 1..255
      return static_cast<int>(raw % 258) - 1;
  }
}

std::optional<std::uint32_t> sockopt_raw(std::size_t option, int value) {
  if (option == 11) {  // IP_TTL
    if (value < -1 || value > 256) return std::nullopt;
    return static_cast<std::uint32_t>(value + 1);
  }
  if (value < 0) return std::nullopt;
  const auto v = static_cast<std::uint32_t>(value);
  std::optional<std::uint32_t> raw;
  switch (option) {
    case 0:
    case 1:
      raw = v;
      break;
    case 2:
    case 3:
    case 4:
      raw = v - 1;
      break;
    case 5:
    case 6:
      raw = v - 256;
      break;
    default:
      raw = v;
  }
  if (sockopt_value(option, *raw) != value) return std::nullopt;
  return raw;
}

SockoptChoice setsockopt_choice(const Call& c) {
  const bool more = c.op == Call::Op::kSetsockoptMore;
  const std::size_t count = more ? kMoreSockopts : kFirstSockopts;
  const std::size_t option = (more ? kFirstSockopts : 0) + c.arg % count;
  return {option, sockopt_value(option, static_cast<std::uint32_t>(c.arg / count))};
}

Call setsockopt_call(std::uint8_t slot, std::size_t option, std::uint32_t raw) {
  const bool more = option >= kFirstSockopts;
  const std::size_t count = more ? kMoreSockopts : kFirstSockopts;
  const std::size_t index = option - (more ? kFirstSockopts : 0);
  return Call{more ? Call::Op::kSetsockoptMore : Call::Op::kSetsockopt, slot,
              static_cast<std::uint32_t>(index + count * raw)};
}

std::size_t getsockopt_choice(const Call& c) {
  if (c.op == Call::Op::kGetsockoptMore) return kFirstSockopts + c.arg % (kMoreSockopts - 1);
  const std::size_t which = c.arg % (kFirstSockopts + 1);
  return which == kFirstSockopts ? kSoError : which;
}

Call getsockopt_call(std::uint8_t slot, std::size_t option) {
  if (option == kSoError) return Call{Call::Op::kGetsockopt, slot, kFirstSockopts};
  if (option >= kFirstSockopts) {
    return Call{Call::Op::kGetsockoptMore, slot,
                static_cast<std::uint32_t>(option - kFirstSockopts)};
  }
  return Call{Call::Op::kGetsockopt, slot, static_cast<std::uint32_t>(option)};
}

Trace decode(const std::uint8_t* data, std::size_t size) {
  Trace t;
  Reader r(data, size);
  if (!r.has(kHeaderSize)) return t;
  t.config = decode_config(r);
  // As many ops as the input can hold (one allocation rather than a doubling series).
  t.ops.reserve(std::min(kMaxOps, (size - kHeaderSize) / (1 + kAdvanceBody)));
  while (r.has(1) && t.ops.size() < kMaxOps) {
    const std::uint8_t tag = r.u8() % 4;
    if (tag == 0) {
      if (!r.has(kSegmentBody)) break;
      t.ops.emplace_back(decode_segment(r));
    } else if (tag == 1) {
      if (!r.has(kAdvanceBody)) break;
      Advance a;
      a.kind = enum_of<Advance::Kind>(r.u8());
      a.amount = r.u32();
      t.ops.emplace_back(a);
    } else if (tag == 3) {
      if (!r.has(kIcmpBody)) break;
      Icmp m;
      m.flow = static_cast<std::uint8_t>(r.u8() % kFlows);
      m.kind = enum_of<Icmp::Kind>(r.u8());
      m.anchor = enum_of<AckAnchor>(r.u8());
      m.offset = static_cast<std::int32_t>(r.u32());
      m.quoted_length = static_cast<std::uint16_t>(r.u16() % (kMaxPayload + 1));
      m.mtu = r.u16();
      t.ops.emplace_back(m);
    } else {
      if (!r.has(kCallBody)) break;
      Call c;
      c.op = enum_of<Call::Op>(r.u8());
      c.slot = static_cast<std::uint8_t>(r.u8() % kMaxSockets);
      c.arg = r.u32();
      t.ops.emplace_back(c);
    }
  }
  return t;
}

std::vector<std::uint8_t> encode(const Trace& t) {
  std::vector<std::uint8_t> o;
  o.reserve(kHeaderSize + t.ops.size() * (1 + kSegmentBody));
  encode_config(t.config, o);
  for (const Op& op : t.ops) {
    if (const auto* s = std::get_if<Segment>(&op)) {
      put8(o, 0);
      encode_segment(*s, o);
    } else if (const auto* a = std::get_if<Advance>(&op)) {
      put8(o, 1);
      put8(o, static_cast<std::uint8_t>(a->kind));
      put32(o, a->amount);
    } else if (const auto* c = std::get_if<Call>(&op)) {
      put8(o, 2);
      put8(o, static_cast<std::uint8_t>(c->op));
      put8(o, c->slot);
      put32(o, c->arg);
    } else if (const auto* m = std::get_if<Icmp>(&op)) {
      put8(o, 3);
      put8(o, m->flow);
      put8(o, static_cast<std::uint8_t>(m->kind));
      put8(o, static_cast<std::uint8_t>(m->anchor));
      put32(o, static_cast<std::uint32_t>(m->offset));
      put16(o, m->quoted_length);
      put16(o, m->mtu);
    }
  }
  return o;
}

std::size_t mutate(std::uint8_t* data, std::size_t size, std::size_t max_size, unsigned seed) {
  Rng r(seed);
  Trace t = decode(data, size);
  const std::size_t n = t.ops.size();
  const std::uint32_t k = r.below(100);
  if (n == 0 || k < 20) {
    t.ops.insert(t.ops.begin() + r.below(static_cast<std::uint32_t>(n + 1)), random_op(r));
  } else if (k < 30) {
    t.ops.erase(t.ops.begin() + r.below(static_cast<std::uint32_t>(n)));
  } else if (k < 38) {
    const std::size_t i = r.below(static_cast<std::uint32_t>(n));
    const Op copy = t.ops[i];
    t.ops.insert(t.ops.begin() + r.below(static_cast<std::uint32_t>(n + 1)), copy);
  } else if (k < 43 && n > 1) {
    const std::size_t i = r.below(static_cast<std::uint32_t>(n - 1));
    std::swap(t.ops[i], t.ops[i + 1]);
  } else if (k < 47) {
    mutate_config(t.config, r);
  } else {
    // One to three field changes on one op.
    const std::size_t i = r.below(static_cast<std::uint32_t>(n));
    const std::uint32_t times = 1 + r.below(3);
    for (std::uint32_t j = 0; j < times; ++j) mutate_op(t.ops[i], r);
  }
  if (t.ops.size() > kMaxOps) t.ops.resize(kMaxOps);
  return store(t, data, max_size);
}

std::size_t cross_over(const std::uint8_t* a, std::size_t a_size, const std::uint8_t* b,
                       std::size_t b_size, std::uint8_t* out, std::size_t max_out, unsigned seed) {
  Rng r(seed);
  const Trace ta = decode(a, a_size);
  const Trace tb = decode(b, b_size);
  // A prefix of one, then a suffix of the other: a session that changes course.
  Trace t;
  t.config = r.chance(50) ? ta.config : tb.config;
  const std::size_t cut_a = r.below(static_cast<std::uint32_t>(ta.ops.size() + 1));
  const std::size_t cut_b = r.below(static_cast<std::uint32_t>(tb.ops.size() + 1));
  t.ops.assign(ta.ops.begin(), ta.ops.begin() + static_cast<std::ptrdiff_t>(cut_a));
  t.ops.insert(t.ops.end(), tb.ops.begin() + static_cast<std::ptrdiff_t>(cut_b), tb.ops.end());
  if (t.ops.size() > kMaxOps) t.ops.resize(kMaxOps);
  return store(t, out, max_out);
}

std::string describe(const Trace& t) {
  std::string out =
      "config ts " + std::to_string(t.config.timestamps ? 1 : 0) + " sack " +
      std::to_string(t.config.sack ? 1 : 0) + " syncookies " + std::to_string(t.config.syncookies) +
      " abort_on_overflow " + std::to_string(t.config.abort_on_overflow ? 1 : 0) + " ssai " +
      std::to_string(t.config.slow_start_after_idle ? 1 : 0) + " retries2 " +
      std::to_string(t.config.retries2) + " keepalive " + std::to_string(t.config.keepalive) + "\n";
  for (const Op& op : t.ops) {
    if (const auto* s = std::get_if<Segment>(&op)) {
      char flags[8];
      std::snprintf(flags, sizeof flags, "0x%02x", s->flags);
      out += "segment flow " + std::to_string(s->flow) + " flags " + flags + " seq " +
             seq_anchor_name(s->seq_anchor) + "+" + std::to_string(s->seq_offset) + " ack " +
             ack_anchor_name(s->ack_anchor) + "+" + std::to_string(s->ack_offset) + " win " +
             std::to_string(s->window) + " opts " + std::to_string(s->options) + " len " +
             std::to_string(s->payload_length) + (s->bad_checksum ? " bad-csum" : "") + "\n";
    } else if (const auto* a = std::get_if<Advance>(&op)) {
      constexpr std::array<const char*, 4> kKinds = {"tiny", "timer", "deadline", "huge"};
      out += std::string("advance ") + kKinds[static_cast<std::size_t>(a->kind) % 4] + " " +
             std::to_string(a->amount) + "\n";
    } else if (const auto* c = std::get_if<Call>(&op)) {
      out += std::string("call ") + call_name(c->op) + " slot " + std::to_string(c->slot) +
             " arg " + std::to_string(c->arg) + "\n";
    } else if (const auto* m = std::get_if<Icmp>(&op)) {
      out += "icmp flow " + std::to_string(m->flow) + " kind " +
             std::to_string(static_cast<int>(m->kind)) + " quoting " + ack_anchor_name(m->anchor) +
             "+" + std::to_string(m->offset) + " len " + std::to_string(m->quoted_length) +
             " mtu " + std::to_string(m->mtu) + "\n";
    }
  }
  return out;
}

}  // namespace synack::fuzz::session
