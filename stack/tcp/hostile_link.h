// A simulated hostile link between two in-process stacks, and a bulk-transfer scenario over it.
//
// Link owns stack A (192.168.0.1) and stack B (192.168.0.2) and carries every packet either one
// emits to the other through a queue ordered by delivery time (then by the order the packets
// went in, so that ties are deterministic). Per packet, independently, the LinkProfile decides
// whether it is lost, how long each copy takes (base delay plus uniform jitter), whether a
// second copy goes too, whether a copy is held back to land after later packets, and whether a
// copy arrives with one byte changed. Time is virtual: the link moves it from one event (a
// delivery or a stack timer) to the next and never reads a clock. The link's and both stacks'
// randomness come from one 64-bit seed, so a run replays exactly from its seed.
//
// run_transfer() is the scenario the stream-integrity property test and the bulk-transfer
// benchmark share: B listens, A connects, each side sends its own payload, shuts down its
// sending side, reads until end of stream and closes, and the run goes on until both stacks
// hold no connection (TIME-WAIT included). Only the public API of stack/stack.h is used.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "stack/stack.h"

namespace synack::stack::sim {

inline constexpr std::uint32_t kAddrA = 0xc0a80001;  // 192.168.0.1
inline constexpr std::uint32_t kAddrB = 0xc0a80002;  // 192.168.0.2

// xoshiro256** (Blackman and Vigna), its state filled by splitmix64 from the seed. Written out
// here rather than taken from <random>: the standard distributions are not specified bit for
// bit and differ between standard libraries, and a seed must replay the same run everywhere.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (std::uint64_t& word : s_) word = splitmix64(seed);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) for n > 0. Draws below 2^64 mod n are redrawn, which leaves a whole
  // number of copies of [0, n) and so no bias towards small values.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t reject_under = (0 - n) % n;  // 2^64 mod n
    for (;;) {
      const std::uint64_t r = next();
      if (r >= reject_under) return r % n;
    }
  }
  // Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    return hi - lo == ~std::uint64_t{0} ? next() : lo + below(hi - lo + 1);
  }
  // Uniform in [0, 1): the top 53 bits as the mantissa of a double.
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::array<std::uint64_t, 4> s_{};
};

// What the link does to each packet. Rates are probabilities in [0, 1].
struct LinkProfile {
  double drop = 0;       // the packet is lost
  double duplicate = 0;  // a second copy goes too, with its own delay, reordering and corruption
  double reorder = 0;    // a copy is held back so that it lands after packets sent later
  double corrupt = 0;    // a copy arrives with exactly one byte changed
  Duration base_delay{0};
  Duration jitter{0};  // each copy takes base_delay plus a uniform [0, jitter]
};

inline std::string describe(const LinkProfile& p) {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "drop %.4f duplicate %.4f reorder %.4f corrupt %.4f delay %lld us jitter %lld us",
                p.drop, p.duplicate, p.reorder, p.corrupt,
                static_cast<long long>(p.base_delay.count()),
                static_cast<long long>(p.jitter.count()));
  return buf;
}

// What the link did, in packets. A duplicated packet is one packet sent and two copies
// delivered (unless its copies are lost otherwise); a corrupted copy is delivered, and the
// receiving stack is expected to discard it.
struct LinkStats {
  std::uint64_t sent = 0;            // packets the stacks emitted
  std::uint64_t dropped = 0;         // of those, lost
  std::uint64_t duplicated = 0;      // of those, sent twice
  std::uint64_t reordered = 0;       // copies held back
  std::uint64_t corrupted = 0;       // copies with one byte changed
  std::uint64_t delivered = 0;       // copies handed to a stack's input(), corrupted ones included
  std::uint64_t peak_in_flight = 0;  // most copies on the wire at once
  friend bool operator==(const LinkStats&, const LinkStats&) = default;
};

enum class Side { kA, kB };
inline const char* side_name(Side s) { return s == Side::kA ? "A" : "B"; }

// The first white-box invariant a stack reported, and the connection as it was then.
struct InvariantViolation {
  Side side = Side::kA;
  std::string invariant;
  Snapshot at;
  Instant when{0};
};

inline std::string dotted(std::uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xffU) + "." +
         std::to_string((addr >> 8) & 0xffU) + "." + std::to_string(addr & 0xffU);
}

inline std::string describe(const Snapshot& s) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "%s %s:%u -> %s:%u iss %u snd_una %u snd_nxt %u snd_max %u snd_wnd %u, irs %u "
                "rcv_nxt %u rcv_wnd %u rcv_adv %u, send_q %u recv_q %u, fin_queued %d "
                "fin_received %d orphan %d, rto %lld us retransmits %d",
                state_name(s.state), dotted(s.local_addr).c_str(), s.local_port,
                dotted(s.remote_addr).c_str(), s.remote_port, s.iss.value(), s.snd_una.value(),
                s.snd_nxt.value(), s.snd_max.value(), s.snd_wnd, s.irs.value(), s.rcv_nxt.value(),
                s.rcv_wnd, s.rcv_adv.value(), s.send_queue, s.recv_queue, s.fin_queued ? 1 : 0,
                s.fin_received ? 1 : 0, s.orphan ? 1 : 0, static_cast<long long>(s.rto.count()),
                s.retransmits);
  return buf;
}

class Link {
 public:
  // The stacks get their addresses here (A: kAddrA, B: kAddrB) whatever the configs say.
  Link(StackConfig a_config, StackConfig b_config, LinkProfile profile, std::uint64_t seed)
      : rng_(seed),
        profile_(profile),
        a_(with_addr(std::move(a_config), kAddrA), rng_.next()),
        b_(with_addr(std::move(b_config), kAddrB), rng_.next()) {
    a_.set_invariant_handler([this](const std::string& what, const Snapshot& at) {
      record_violation(Side::kA, what, at);
    });
    b_.set_invariant_handler([this](const std::string& what, const Snapshot& at) {
      record_violation(Side::kB, what, at);
    });
  }
  // The invariant handlers point at this object.
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  Link(Link&&) = delete;
  Link& operator=(Link&&) = delete;
  ~Link() = default;

  Stack& a() { return a_; }
  Stack& b() { return b_; }
  const Stack& a() const { return a_; }
  const Stack& b() const { return b_; }
  Instant now() const { return now_; }
  const LinkProfile& profile() const { return profile_; }
  const LinkStats& stats() const { return stats_; }
  std::size_t in_flight() const { return flight_.size(); }
  // The first invariant violation either stack reported (nullopt while there is none).
  const std::optional<InvariantViolation>& violation() const { return violation_; }

  // Puts what both stacks have emitted since the last call on the wire.
  void collect() {
    for (Packet& p : a_.take_output()) transmit(Side::kB, std::move(p));
    for (Packet& p : b_.take_output()) transmit(Side::kA, std::move(p));
  }

  // The next instant something happens: a delivery or a stack timer. Packets emitted since the
  // last collect() are not counted until collected. nullopt when nothing is scheduled.
  std::optional<Instant> next_event() const {
    std::optional<Instant> next;
    if (!flight_.empty()) next = flight_.front().at;
    for (const std::optional<Instant>& d : {a_.next_deadline(), b_.next_deadline()}) {
      if (d && (!next || *d < *next)) next = d;
    }
    return next;
  }

  // One step of the driver: puts what the stacks emitted on the wire, moves the clock to the
  // next event, fires the stacks' timers due then and delivers every packet due then (in
  // delivery order), and puts what that made the stacks emit on the wire. Returns false, with
  // the clock unmoved, when nothing is scheduled at or before `limit`.
  bool step(Instant limit) {
    collect();
    const std::optional<Instant> next = next_event();
    if (!next || *next > limit) return false;
    now_ = std::max(now_, *next);
    a_.advance(now_);
    b_.advance(now_);
    while (!flight_.empty() && flight_.front().at <= now_) {
      std::pop_heap(flight_.begin(), flight_.end(), Later{});
      InFlight f = std::move(flight_.back());
      flight_.pop_back();
      ++stats_.delivered;
      (f.to == Side::kA ? a_ : b_).input(f.bytes, now_);
    }
    collect();
    return true;
  }

 private:
  struct InFlight {
    Instant at;
    std::uint64_t order;  // ties at the same instant go in the order they were sent
    Side to;
    Packet bytes;
  };
  struct Later {
    bool operator()(const InFlight& x, const InFlight& y) const {
      return x.at != y.at ? x.at > y.at : x.order > y.order;
    }
  };

  static StackConfig with_addr(StackConfig c, std::uint32_t addr) {
    c.local_addr = addr;
    return c;
  }

  void record_violation(Side side, const std::string& what, const Snapshot& at) {
    if (!violation_) violation_ = InvariantViolation{side, what, at, now_};
  }

  Duration random_delay() {
    const auto jitter =
        static_cast<std::uint64_t>(std::max<Duration::rep>(profile_.jitter.count(), 0));
    return profile_.base_delay + Duration(static_cast<Duration::rep>(rng_.below(jitter + 1)));
  }

  void transmit(Side to, Packet p) {
    ++stats_.sent;
    if (rng_.chance(profile_.drop)) {
      ++stats_.dropped;
      return;
    }
    if (rng_.chance(profile_.duplicate)) {
      ++stats_.duplicated;
      send_copy(to, p);
    }
    send_copy(to, std::move(p));
  }

  void send_copy(Side to, Packet p) {
    Duration delay = random_delay();
    if (rng_.chance(profile_.reorder)) {
      // Held back for twice the longest delay a copy can have, plus up to that much again (at
      // least a millisecond): everything sent at the same time, and replies to it, overtake it.
      ++stats_.reordered;
      const Duration longest = profile_.base_delay + profile_.jitter;
      const auto spread = static_cast<std::uint64_t>(std::max(longest, Duration(1000)).count());
      delay = 2 * longest + Duration(static_cast<Duration::rep>(rng_.between(1, spread)));
    }
    if (rng_.chance(profile_.corrupt) && !p.empty()) {
      // One byte, to a different value. A change confined to one byte of what a checksum
      // covers shifts its ones'-complement sum by a nonzero amount below 0xffff, so the IPv4
      // header checksum or the TCP checksum always catches it (RFC 1071), and the receiving
      // stack must discard this copy. (Only a changed IHL moves the ranges the checksums cover;
      // the parser's structure checks and both checksums would then all have to pass.)
      ++stats_.corrupted;
      const std::uint64_t at = rng_.below(p.size());
      p[at] = static_cast<std::uint8_t>(p[at] ^ rng_.between(1, 255));
    }
    flight_.push_back(InFlight{now_ + delay, next_order_++, to, std::move(p)});
    std::push_heap(flight_.begin(), flight_.end(), Later{});
    stats_.peak_in_flight = std::max<std::uint64_t>(stats_.peak_in_flight, flight_.size());
  }

  Rng rng_;
  LinkProfile profile_;
  Stack a_;
  Stack b_;
  Instant now_{0};
  std::vector<InFlight> flight_;  // a min-heap on (at, order)
  std::uint64_t next_order_ = 0;
  LinkStats stats_;
  std::optional<InvariantViolation> violation_;
};

// A pseudo-random payload of `size` bytes from `seed`.
inline std::vector<std::uint8_t> random_payload(std::size_t size, std::uint64_t seed) {
  std::vector<std::uint8_t> out(size);
  Rng rng(seed);
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t r = rng.next();
    for (std::size_t b = i; b < std::min(size, i + 8); ++b, r >>= 8) {
      out[b] = static_cast<std::uint8_t>(r);
    }
  }
  return out;
}

inline std::string errno_name(int e) {
  switch (e) {
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case ECONNRESET:
      return "ECONNRESET";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EPIPE:
      return "EPIPE";
    case ENOTCONN:
      return "ENOTCONN";
    case EAGAIN:
      return "EAGAIN";
    default:
      return "errno " + std::to_string(e);
  }
}

// One end of the transfer, as an application with a non-blocking socket: writes its payload
// as fast as the send buffer takes it, shuts down its sending side once all of it is written,
// reads until end of stream, then closes.
class StreamApp {
 public:
  // `expect`: how much the peer will send, reserved up front so that the harness's own copying
  // stays out of the benchmark's figures (more is still read and reported).
  StreamApp(Stack& stack, Side side, std::span<const std::uint8_t> to_send, std::size_t expect,
            std::size_t read_chunk)
      : stack_(stack), side_(side), to_send_(to_send), read_chunk_(read_chunk) {
    received_.reserve(expect);
  }

  void listen(std::uint16_t port) {
    listener_ = stack_.socket().value();
    if (const SysStatus r = stack_.bind(listener_, port); !r.ok()) return fail("bind", r.error());
    if (const SysStatus r = stack_.listen(listener_, 1); !r.ok()) fail("listen", r.error());
  }
  void connect(Endpoint remote) {
    conn_ = stack_.socket().value();
    const SysStatus r = stack_.connect(conn_, remote);
    if (r.error() != EINPROGRESS) fail("connect", r.error());
  }

  // Does everything the socket allows at this instant.
  void poll() {
    if (closed_ || failed()) return;
    if (conn_ < 0) {
      const SysResult<SocketId> c = stack_.accept(listener_);
      if (!c.ok()) {
        if (c.error() != EAGAIN) fail("accept", c.error());
        return;
      }
      conn_ = c.value();
      // One connection is all this side serves. Closing the listener means a late duplicate
      // of the SYN gets a RST instead of opening a second connection.
      stack_.close(listener_);
      listener_ = -1;
    }
    send_what_fits();
    if (failed()) return;
    read_what_arrived();
    if (failed()) return;
    if (shut_ && eof_) {
      if (const SysStatus r = stack_.close(conn_); !r.ok()) return fail("close", r.error());
      closed_ = true;
    }
  }

  bool closed() const { return closed_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t sent() const { return sent_; }
  std::vector<std::uint8_t>& received() { return received_; }

 private:
  void fail(const char* call, int e) {
    if (error_.empty()) {
      error_ = std::string(side_name(side_)) + ": " + call + "() -> " + errno_name(e);
    }
  }

  void send_what_fits() {
    while (sent_ < to_send_.size() && (stack_.events(conn_) & event::kOut) != 0) {
      const SysResult<std::size_t> n = stack_.write(conn_, to_send_.subspan(sent_));
      if (!n.ok()) {
        if (n.error() != EAGAIN) fail("write", n.error());
        return;
      }
      if (n.value() == 0) return;
      sent_ += n.value();
    }
    // POLLOUT says the connection is established: only then can the FIN be queued (a socket
    // still in SYN-SENT refuses shutdown with ENOTCONN).
    if ((stack_.events(conn_) & event::kOut) != 0) established_ = true;
    if (sent_ == to_send_.size() && established_ && !shut_) {
      if (const SysStatus r = stack_.shutdown(conn_, Shutdown::kWrite); !r.ok()) {
        return fail("shutdown", r.error());
      }
      shut_ = true;
    }
  }

  void read_what_arrived() {
    while (!eof_) {
      SysResult<std::vector<std::uint8_t>> r = stack_.read(conn_, read_chunk_);
      if (!r.ok()) {
        if (r.error() != EAGAIN) fail("read", r.error());
        return;
      }
      if (r.value().empty()) {
        eof_ = true;
        return;
      }
      const std::vector<std::uint8_t>& bytes = r.value();
      received_.insert(received_.end(), bytes.begin(), bytes.end());
    }
  }

  Stack& stack_;
  Side side_;
  std::span<const std::uint8_t> to_send_;
  std::size_t read_chunk_;
  SocketId listener_ = -1;
  SocketId conn_ = -1;
  std::size_t sent_ = 0;
  bool established_ = false;
  bool shut_ = false;
  bool eof_ = false;
  bool closed_ = false;
  std::string error_;
  std::vector<std::uint8_t> received_;
};

struct TransferSpec {
  StackConfig a_config;  // local_addr is the link's (kAddrA)
  StackConfig b_config;  // (kAddrB)
  LinkProfile profile;
  std::uint64_t seed = 1;                        // the link's and both stacks' randomness
  std::span<const std::uint8_t> a_to_b;          // what A writes (the caller keeps it alive)
  std::span<const std::uint8_t> b_to_a;          // what B writes
  std::uint16_t port = 8080;                     // B listens here
  Duration time_limit = std::chrono::hours(24);  // of virtual time
  std::size_t read_chunk = 65536;
  // Storm guards: stacks that keep answering each other (an ACK war) may never finish, and with
  // duplication their traffic grows exponentially. A healthy transfer has at most a few hundred
  // packets in flight (two windows of segments, their ACKs, duplicates and held-back copies;
  // 99.4% of the stream test's seeds stay under 250), so 2,000 is a storm.
  std::size_t max_in_flight = 2'000;
  std::uint64_t max_packets = 20'000'000;  // emitted by both stacks over the whole run
};

struct TransferResult {
  std::vector<std::uint8_t> received_by_b;  // what B read: should equal spec.a_to_b
  std::vector<std::uint8_t> received_by_a;  // what A read: should equal spec.b_to_a
  // The first offset at which what was read differs from what was sent (a short stream
  // differs at its end); nullopt when the two are equal.
  std::optional<std::size_t> a_to_b_mismatch;
  std::optional<std::size_t> b_to_a_mismatch;
  std::string error;  // a failed socket call, a stall, the time limit; empty when none
  bool timed_out = false;
  std::optional<InvariantViolation> violation;
  std::vector<Snapshot> a_left;  // connections each stack still held when the run ended
  std::vector<Snapshot> b_left;
  Instant elapsed{0};  // virtual time from connect() to the end of the run
  LinkStats link;
  StackCounters a_counters;
  StackCounters b_counters;

  bool ok() const {
    return error.empty() && !violation && !a_to_b_mismatch && !b_to_a_mismatch && a_left.empty() &&
           b_left.empty();
  }
};

inline std::optional<std::size_t> first_difference(std::span<const std::uint8_t> sent,
                                                   std::span<const std::uint8_t> got) {
  const std::size_t common = std::min(sent.size(), got.size());
  // memcmp first (the usual, equal case, fast on megabytes); the byte loop only to say where.
  if (common == 0 || std::memcmp(sent.data(), got.data(), common) == 0) {
    if (sent.size() == got.size()) return std::nullopt;
    return common;
  }
  std::size_t at = 0;
  while (sent[at] == got[at]) ++at;
  return at;
}

// Runs the transfer until both stacks hold no connection, something fails, or the virtual time
// limit passes. Stops at the first invariant violation or failed socket call.
inline TransferResult run_transfer(const TransferSpec& spec) {
  Link link(spec.a_config, spec.b_config, spec.profile, spec.seed);
  StreamApp server(link.b(), Side::kB, spec.b_to_a, spec.a_to_b.size(), spec.read_chunk);
  StreamApp client(link.a(), Side::kA, spec.a_to_b, spec.b_to_a.size(), spec.read_chunk);
  server.listen(spec.port);
  client.connect(Endpoint{kAddrB, spec.port});
  const Instant start = link.now();
  const Instant limit = start + spec.time_limit;

  TransferResult r;
  for (;;) {
    server.poll();
    client.poll();
    if (link.violation() || client.failed() || server.failed()) break;
    // Both applications are done; the run ends once TIME-WAIT (and any orphan) is over.
    if (client.closed() && server.closed() && link.a().connections().empty() &&
        link.b().connections().empty()) {
      break;
    }
    if (link.in_flight() > spec.max_in_flight || link.stats().sent > spec.max_packets) {
      r.error = "packet storm: " + std::to_string(link.in_flight()) + " packets in flight and " +
                std::to_string(link.stats().sent) + " sent after " +
                std::to_string((link.now() - start).count() / 1000) +
                " ms of virtual time (the stacks keep answering each other)";
      break;
    }
    if (!link.step(limit)) {
      if (link.next_event()) {
        r.timed_out = true;
        r.error = "virtual time limit reached";
      } else {
        r.error = "stalled: nothing scheduled (no packet in flight, no timer) yet not finished";
      }
      break;
    }
  }
  if (r.error.empty()) r.error = client.failed() ? client.error() : server.error();
  r.violation = link.violation();
  r.received_by_b = std::move(server.received());
  r.received_by_a = std::move(client.received());
  r.a_to_b_mismatch = first_difference(spec.a_to_b, r.received_by_b);
  r.b_to_a_mismatch = first_difference(spec.b_to_a, r.received_by_a);
  r.a_left = link.a().connections();
  r.b_left = link.b().connections();
  r.elapsed = link.now() - start;
  r.link = link.stats();
  r.a_counters = link.a().counters();
  r.b_counters = link.b().counters();
  return r;
}

}  // namespace synack::stack::sim
