// pair_fuzzer's library: the input format, the session that runs it, the custom mutator and
// the seeds (pair.h documents the format and the oracles).
#include "fuzz/pair/pair.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string_view>
#include <utility>

#include "harness/oracle/oracle.h"
#include "harness/script/patterns.h"
#include "harness/wire/tcp.h"
#include "stack/stack.h"

namespace synack::fuzz::pair {

using stack::Duration;

// --- the input format --------------------------------------------------------------------------

std::uint16_t arg_limit(Kind k) {
  switch (k) {
    case Kind::kWrite:
      return 8192;
    case Kind::kRead:
    case Kind::kCorrupt:
    case Kind::kDelay:
      return 65535;
    case Kind::kAdvanceTiny:
      return 255;
    case Kind::kAdvanceTimer:
      return 2559;
    default:
      return 0;
  }
}

std::size_t arg_bytes(Kind k) {
  const std::uint16_t limit = arg_limit(k);
  return limit == 0 ? 0 : limit <= 0xff ? 1 : 2;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kWrite:
      return "write";
    case Kind::kRead:
      return "read";
    case Kind::kShutdown:
      return "shutdown";
    case Kind::kClose:
      return "close";
    case Kind::kDeliver:
      return "deliver";
    case Kind::kDeliverAll:
      return "deliver-all";
    case Kind::kDrop:
      return "drop";
    case Kind::kDuplicate:
      return "duplicate";
    case Kind::kReorder:
      return "reorder";
    case Kind::kCorrupt:
      return "corrupt";
    case Kind::kDelay:
      return "delay";
    case Kind::kAdvanceTiny:
      return "advance-tiny";
    case Kind::kAdvanceTimer:
      return "advance-timer";
    case Kind::kAdvanceToEvent:
      return "advance-to-event";
  }
  return "?";
}

bool is_app_action(Kind k) {
  return k == Kind::kWrite || k == Kind::kRead || k == Kind::kShutdown || k == Kind::kClose;
}
bool is_link_action(Kind k) { return k >= Kind::kDeliver && k <= Kind::kDelay; }

namespace {

// The fixed meanings of the header's flag bits (pair.h).
namespace header_bit {
constexpr std::uint8_t kAConnects = 0x01;
constexpr std::uint8_t kANoTimestamps = 0x02;
constexpr std::uint8_t kANoSack = 0x04;
constexpr std::uint8_t kBNoTimestamps = 0x08;
constexpr std::uint8_t kBNoSack = 0x10;
}  // namespace header_bit

template <std::size_t N, class T>
std::uint8_t choice(unsigned nibble, const std::array<T, N>& /*table*/) {
  return static_cast<std::uint8_t>(nibble % N);
}

std::uint8_t nibbles(std::uint8_t low, std::uint8_t high) {
  return static_cast<std::uint8_t>(low | (high << 4));
}

Duration advance_timer_duration(std::uint16_t arg) {
  const auto ms = static_cast<std::int64_t>((arg % 256U) + 1U) << (arg / 256U);
  return std::chrono::milliseconds(ms);
}

Duration delay_duration(std::uint16_t arg) {
  return std::chrono::microseconds((std::int64_t{arg} + 1) * 250);
}

Duration tiny_duration(std::uint16_t arg) {
  return std::chrono::microseconds((std::int64_t{arg} + 1) * 10);
}

}  // namespace

Program decode(std::span<const std::uint8_t> in) {
  std::array<std::uint8_t, kHeaderSize> b{};
  std::copy_n(in.begin(), std::min(in.size(), kHeaderSize), b.begin());
  Program p;
  Header& h = p.header;
  h.a_connects = (b[0] & header_bit::kAConnects) != 0;
  h.a_timestamps = (b[0] & header_bit::kANoTimestamps) == 0;
  h.a_sack = (b[0] & header_bit::kANoSack) == 0;
  h.b_timestamps = (b[0] & header_bit::kBNoTimestamps) == 0;
  h.b_sack = (b[0] & header_bit::kBNoSack) == 0;
  h.a_mss = choice(b[1] & 0x0fU, kMssChoices);
  h.b_mss = choice(b[1] >> 4U, kMssChoices);
  h.a_rcv_buf = choice(b[2] & 0x0fU, kBufferChoices);
  h.a_snd_buf = choice(b[2] >> 4U, kBufferChoices);
  h.b_rcv_buf = choice(b[3] & 0x0fU, kBufferChoices);
  h.b_snd_buf = choice(b[3] >> 4U, kBufferChoices);
  h.b_wscale = static_cast<std::uint8_t>((b[4] + 7U) % 15U);

  std::size_t at = kHeaderSize;
  while (at < in.size() && p.actions.size() < kMaxActions) {
    const std::uint8_t tag = in[at];
    Action a;
    a.kind = static_cast<Kind>((tag >> 1U) % kKindCount);
    a.side = (tag & 1U) != 0 ? Side::kB : Side::kA;
    const std::size_t n = arg_bytes(a.kind);
    if (at + 1 + n > in.size()) break;  // truncated: the list ends
    std::uint32_t raw = 0;
    for (std::size_t i = 0; i < n; ++i) raw |= std::uint32_t{in[at + 1 + i]} << (8 * i);
    if (n != 0) a.arg = static_cast<std::uint16_t>(raw % (std::uint32_t{arg_limit(a.kind)} + 1));
    p.actions.push_back(a);
    at += 1 + n;
  }
  return p;
}

std::size_t encoded_size(const Program& p) {
  std::size_t n = kHeaderSize;
  for (const Action& a : p.actions) n += 1 + arg_bytes(a.kind);
  return n;
}

std::vector<std::uint8_t> encode(const Program& p) {
  std::vector<std::uint8_t> out;
  out.reserve(encoded_size(p));
  const Header& h = p.header;
  std::uint8_t flags = 0;
  if (h.a_connects) flags |= header_bit::kAConnects;
  if (!h.a_timestamps) flags |= header_bit::kANoTimestamps;
  if (!h.a_sack) flags |= header_bit::kANoSack;
  if (!h.b_timestamps) flags |= header_bit::kBNoTimestamps;
  if (!h.b_sack) flags |= header_bit::kBNoSack;
  out.push_back(flags);
  out.push_back(nibbles(h.a_mss, h.b_mss));
  out.push_back(nibbles(h.a_rcv_buf, h.a_snd_buf));
  out.push_back(nibbles(h.b_rcv_buf, h.b_snd_buf));
  out.push_back(static_cast<std::uint8_t>((h.b_wscale + 8U) % 15U));
  for (const Action& a : p.actions) {
    out.push_back(static_cast<std::uint8_t>((static_cast<unsigned>(a.kind) << 1U) |
                                            static_cast<unsigned>(a.side)));
    const std::size_t n = arg_bytes(a.kind);
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(a.arg >> (8 * i)));
  }
  return out;
}

std::string describe(const Program& p) {
  const Header& h = p.header;
  std::string out;
  char line[200];
  std::snprintf(line, sizeof line,
                "%s; A: ts %d sack %d mss %u rcvbuf %u sndbuf %u; B: ts %d sack %d mss %u rcvbuf "
                "%u sndbuf %u wscale %u\n",
                h.a_connects ? "A connects" : "B connects", h.a_timestamps ? 1 : 0,
                h.a_sack ? 1 : 0, kMssChoices[h.a_mss], kBufferChoices[h.a_rcv_buf],
                kBufferChoices[h.a_snd_buf], h.b_timestamps ? 1 : 0, h.b_sack ? 1 : 0,
                kMssChoices[h.b_mss], kBufferChoices[h.b_rcv_buf], kBufferChoices[h.b_snd_buf],
                h.b_wscale);
  out += line;
  for (const Action& a : p.actions) {
    const char* side = side_name(a.side);
    if (is_app_action(a.kind)) {
      std::snprintf(line, sizeof line, "%s %s", side, kind_name(a.kind));
    } else if (is_link_action(a.kind)) {
      std::snprintf(line, sizeof line, "%s->%s %s", side, side_name(other(a.side)),
                    kind_name(a.kind));
    } else {
      std::snprintf(line, sizeof line, "%s", kind_name(a.kind));
    }
    out += line;
    switch (a.kind) {
      case Kind::kWrite:
      case Kind::kRead:
        out += " " + std::to_string(a.kind == Kind::kRead ? a.arg + 1 : a.arg);
        break;
      case Kind::kCorrupt:
        out += " bit " + std::to_string(a.arg);
        break;
      case Kind::kDelay:
        out += " " + std::to_string(delay_duration(a.arg).count()) + " us";
        break;
      case Kind::kAdvanceTiny:
        out += " " + std::to_string(tiny_duration(a.arg).count()) + " us";
        break;
      case Kind::kAdvanceTimer:
        out += " " + std::to_string(advance_timer_duration(a.arg).count() / 1000) + " ms";
        break;
      default:
        break;
    }
    out += "\n";
  }
  return out;
}

// --- the stream-integrity checker ----------------------------------------------------------------

namespace {

std::string byte_text(std::uint8_t b) {
  char buf[8];
  if (b >= 0x20 && b < 0x7f && b != '\'' && b != '\\') {
    std::snprintf(buf, sizeof buf, "'%c'", b);
  } else {
    std::snprintf(buf, sizeof buf, "'\\x%02x'", b);
  }
  return buf;
}

}  // namespace

void StreamRecord::wrote(std::span<const std::uint8_t> bytes) {
  written_.insert(written_.end(), bytes.begin(), bytes.end());
}

std::string StreamRecord::read(std::span<const std::uint8_t> bytes) {
  const char* reader = side_name(other(writer_));
  const char* writer = side_name(writer_);
  // The usual case, every byte as written, in one comparison.
  if (read_ + bytes.size() <= written_.size() &&
      std::equal(bytes.begin(), bytes.end(),
                 written_.begin() + static_cast<std::ptrdiff_t>(read_))) {
    read_ += bytes.size();
    return {};
  }
  for (std::size_t i = 0; i < bytes.size(); ++i, ++read_) {
    if (read_ >= written_.size()) {
      return std::string("stream-integrity: side ") + reader + " read byte " +
             std::to_string(read_) + " = " + byte_text(bytes[i]) + ", but " + writer +
             " wrote only " + std::to_string(written_.size()) + " bytes";
    }
    if (bytes[i] != written_[read_]) {
      return std::string("stream-integrity: side ") + reader + " read byte " +
             std::to_string(read_) + " = " + byte_text(bytes[i]) + ", " + writer + " wrote " +
             byte_text(written_[read_]);
    }
  }
  return {};
}

std::string StreamRecord::end_of_stream() const {
  if (read_ == written_.size()) return {};
  return std::string("stream-integrity: side ") + side_name(other(writer_)) +
         " reached end of stream after " + std::to_string(read_) + " bytes, but " +
         side_name(writer_) + " wrote " + std::to_string(written_.size());
}

// --- the session ---------------------------------------------------------------------------------

namespace {

using stack::Instant;
using stack::Packet;
using stack::SocketId;

constexpr std::uint32_t kAddrA = 0xc0a80001;   // 192.168.0.1, the inproc target's address
constexpr std::uint32_t kAliasA = 0xc0a80003;  // 192.168.0.3, the inproc target's alias
constexpr std::uint32_t kAddrB = 0xc0a80002;   // 192.168.0.2, the harness peer's address
constexpr std::uint16_t kPortA = 8080;         // A's listener
constexpr std::uint16_t kPortB = 40000;        // B's port, listening or connecting
constexpr std::uint64_t kSeedA = 1;            // the inproc target's seed
constexpr std::uint64_t kSeedB = 2;
constexpr int kBacklog = 4;
// A link queue longer than this drops what comes next (a router's tail drop), so that a stack
// retransmitting into a link nobody drains cannot make a run slow.
constexpr std::size_t kMaxQueue = 1024;
// Bytes each application may ask to write over a run: 48 segments of the smaller MSS the
// header chose, and at most 64 KiB. A run's cost is in its segments (both stacks' invariants and
// the oracle run on each; under ASan + UBSan about 4 us a segment), so the bound is one of
// segments: 48 of them outgrow a 10-segment initial window twice and leave room for losses,
// SACK holes and the smaller buffers' zero windows, with any MSS. A byte bound alone let the
// 88- and 100-byte MSS runs send 745 segments a side, and pair_fuzzer ran at a third of the
// speed for no coverage that fewer, larger runs did not reach as well.
constexpr std::size_t kMaxWritten = std::size_t{64} * 1024;
constexpr std::size_t kMaxSegmentsWritten = 48;
constexpr std::size_t kReadChunk = 65536;
std::size_t write_limit(const Header& h) {
  const std::size_t mss = std::min(kMssChoices[h.a_mss], kMssChoices[h.b_mss]);
  return std::min(kMaxWritten, kMaxSegmentsWritten * mss);
}
// Steps taken at one instant before the clock is declared stuck: a stack whose next_deadline()
// stays at or before `now` after advance(now) would spin a caller's event loop forever.
constexpr int kMaxStepsAtOneInstant = 1000;
// The healed link must settle within this many rounds and deliveries.
constexpr std::size_t kMaxHealRounds = 100000;
constexpr std::size_t kMaxHealPackets = 200000;

struct ErrnoText {
  int code;
  const char* name;
  const char* text;
};
// Linux's strerror() texts, fixed here so that logs are the same on every libc.
constexpr std::array<ErrnoText, 16> kErrnoTexts = {{
    {EAGAIN, "EAGAIN", "Resource temporarily unavailable"},
    {EINPROGRESS, "EINPROGRESS", "Operation now in progress"},
    {ECONNRESET, "ECONNRESET", "Connection reset by peer"},
    {ETIMEDOUT, "ETIMEDOUT", "Connection timed out"},
    {ECONNREFUSED, "ECONNREFUSED", "Connection refused"},
    {EPIPE, "EPIPE", "Broken pipe"},
    {ENOTCONN, "ENOTCONN", "Transport endpoint is not connected"},
    {EBADF, "EBADF", "Bad file descriptor"},
    {EINVAL, "EINVAL", "Invalid argument"},
    {ECONNABORTED, "ECONNABORTED", "Software caused connection abort"},
    {EHOSTUNREACH, "EHOSTUNREACH", "No route to host"},
    {ENETUNREACH, "ENETUNREACH", "Network is unreachable"},
    {EISCONN, "EISCONN", "Transport endpoint is already connected"},
    {EALREADY, "EALREADY", "Operation already in progress"},
    {EADDRINUSE, "EADDRINUSE", "Address already in use"},
    {EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported"},
}};

std::string errno_result(int e) {
  for (const ErrnoText& t : kErrnoTexts) {
    if (t.code == e) return std::string("-1 ") + t.name + " (" + t.text + ")";
  }
  return "-1 errno " + std::to_string(e);
}

template <class T>
std::string result_text(const stack::SysResult<T>& r, const std::string& ok) {
  return r.ok() ? ok : errno_result(r.error());
}

std::string dotted(std::uint32_t addr) {
  return std::to_string(addr >> 24) + "." + std::to_string((addr >> 16) & 0xffU) + "." +
         std::to_string((addr >> 8) & 0xffU) + "." + std::to_string(addr & 0xffU);
}

std::string describe(const stack::Snapshot& s) {
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "%s %s:%u -> %s:%u iss %u snd_una %u snd_nxt %u snd_max %u snd_wnd %u irs %u "
                "rcv_nxt %u rcv_wnd %u rcv_adv %u send_q %u recv_q %u ooo %u cwnd %u ssthresh %u",
                stack::state_name(s.state), dotted(s.local_addr).c_str(), s.local_port,
                dotted(s.remote_addr).c_str(), s.remote_port, s.iss.value(), s.snd_una.value(),
                s.snd_nxt.value(), s.snd_max.value(), s.snd_wnd, s.irs.value(), s.rcv_nxt.value(),
                s.rcv_wnd, s.rcv_adv.value(), s.send_queue, s.recv_queue, s.ooo_bytes, s.cwnd,
                s.ssthresh);
  return buf;
}

// Packets a stack discarded before TCP saw them.
std::uint64_t discarded(const stack::StackCounters& c) {
  return c.bad_checksum + c.malformed + c.not_for_us + c.invalid_address + c.source_routed;
}

bool connection_error(int e) { return e != EAGAIN && e != EINPROGRESS; }

class Session {
 public:
  Session(const Program& p, Observer* observer, const TestHooks& hooks)
      : program_(p),
        observer_(observer),
        calls_(observer != nullptr && observer->record_calls()),
        hooks_(hooks),
        a_(a_config(p.header), kSeedA),
        b_(b_config(p.header), kSeedB) {
    a_.set_invariant_handler([this](const std::string& name, const stack::Snapshot& at) {
      fail("invariant " + name + " on A: " + describe(at));
    });
    b_.set_invariant_handler([this](const std::string& name, const stack::Snapshot& at) {
      fail("invariant " + name + " on B: " + describe(at));
    });
  }
  // The invariant handlers point at this object.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = delete;
  Session& operator=(Session&&) = delete;
  ~Session() = default;

  RunResult run() {
    open();
    for (const Action& a : program_.actions) {
      if (stopped_) break;
      act(a);
    }
    if (!stopped_) heal();
    if (!stopped_) check_complete();
    oracle_.finish(now_us());
    RunResult r;
    r.finding = finding_;
    r.a_wrote = a_to_b_.written();
    r.b_read = a_to_b_.read_so_far();
    r.b_wrote = b_to_a_.written();
    r.a_read = b_to_a_.read_so_far();
    r.excused = excused();
    r.packets = packets_;
    r.end_time_us = now_us();
    return r;
  }

 private:
  // One application: a listener on the passive side, the connection's socket, and what became
  // of them.
  struct App {
    Side side = Side::kA;
    SocketId listener = -1;
    SocketId conn = -1;
    bool listener_closed = false;
    bool conn_closed = false;
    bool shut_wr = false;
    bool eof = false;
    bool error = false;         // an error other than EAGAIN reached the application
    std::size_t requested = 0;  // bytes asked to be written, accepted or not
  };
  struct Delayed {
    Instant at;
    std::uint64_t order;  // ties go in the order the packets were delayed
    Side from;
    Packet bytes;
  };
  struct Later {
    bool operator()(const Delayed& x, const Delayed& y) const {
      return x.at != y.at ? x.at > y.at : x.order > y.order;
    }
  };

  static stack::StackConfig b_config(const Header& h) {
    stack::StackConfig c;
    c.local_addr = kAddrB;
    c.timestamps = h.b_timestamps;
    c.sack = h.b_sack;
    c.mss = kMssChoices[h.b_mss];
    c.wscale = h.b_wscale;
    if (const std::uint32_t v = kBufferChoices[h.b_rcv_buf]; v != 0) {
      c.rcv_buf = std::max<std::uint32_t>(2304, 2 * v);
    }
    if (const std::uint32_t v = kBufferChoices[h.b_snd_buf]; v != 0) {
      c.snd_buf = std::max<std::uint32_t>(4608, 2 * v);
    }
    // The stack takes any shift, but one scale unit larger than the receive buffer leaves the
    // advertised window at zero for good (Linux derives the shift from the buffer, so never
    // gets there): at most a quarter of the buffer per unit.
    while (c.wscale > 0 && (1U << c.wscale) > c.rcv_buf / 4) --c.wscale;
    return c;
  }

  std::int64_t now_us() const { return now_.count(); }
  stack::Stack& stack_of(Side s) { return s == Side::kA ? a_ : b_; }
  App& app(Side s) { return s == Side::kA ? app_a_ : app_b_; }
  // The record of the stream `s` writes.
  StreamRecord& stream_from(Side s) { return s == Side::kA ? a_to_b_ : b_to_a_; }
  std::deque<Packet>& queue_from(Side s) { return queues_[static_cast<std::size_t>(s)]; }

  void fail(const std::string& finding) {
    if (stopped_) return;
    stopped_ = true;
    finding_ = finding;
    if (observer_ != nullptr) observer_->violation(finding);
  }

  // Logs one of A's calls; `text` is only built when calls are recorded.
  template <class F>
  void log_call(Side s, F&& text) {
    if (calls_ && s == Side::kA) observer_->call_on_a(text(), now_us());
  }

  void check_oracle() {
    if (oracle_.ok() || stopped_) return;
    const oracle::Violation& v = oracle_.violations().front();
    fail("oracle " + v.invariant + ": " + v.detail + " (at " + std::to_string(v.time_us) + " us)");
  }

  // --- the link

  // Puts what both stacks emitted on their queues. Everything A sends goes to the oracle first.
  void collect() {
    if (a_.pending_output() != 0) {
      a_.take_output(taken_);
      for (Packet& p : taken_) {
        ++packets_;
        if (observer_ != nullptr) observer_->packet_from_a(p, now_us());
        if (const auto error = wire::parse_tcp_packet(p, parsed_)) {
          fail("oracle wire: A sent a packet the harness codec cannot parse: " + error->message());
        } else {
          oracle_.on_segment(oracle::Direction::kFromTarget, parsed_, now_us());
          check_oracle();
        }
        enqueue(Side::kA, std::move(p));
      }
    }
    if (b_.pending_output() != 0) {
      b_.take_output(taken_);
      for (Packet& p : taken_) {
        ++packets_;
        enqueue(Side::kB, std::move(p));
      }
    }
  }

  void enqueue(Side from, Packet p) {
    std::deque<Packet>& q = queue_from(from);
    if (q.size() < kMaxQueue) {
      q.push_back(std::move(p));
    } else {
      recycle(from, std::move(p));
    }
  }

  // Gives a packet that has left the link back to the stack that sent it, whose next packet is
  // then built in its buffer (no allocation per packet).
  void recycle(Side from, Packet&& p) { stack_of(from).recycle(std::move(p)); }

  // Hands one packet to the stack on the other side of `from`, then collects what that made
  // either stack send. A corrupted copy that fails a checksum must be discarded (RFC 9293 3.1,
  // MUST-3).
  void deliver(Side from, std::span<const std::uint8_t> p, bool corrupted) {
    const Side to = other(from);
    stack::Stack& s = stack_of(to);
    const std::uint64_t discarded_before = corrupted ? discarded(s.counters()) : 0;
    bool checksum_bad = false;
    if (to == Side::kA) {
      if (observer_ != nullptr) observer_->packet_to_a(p, now_us());
      if (!wire::parse_tcp_packet(p, parsed_)) {
        checksum_bad = !parsed_.ip_checksum_ok || !parsed_.tcp_checksum_ok;
        // The oracle judges what A could take: a segment failing its checksum never reaches
        // TCP, and feeding it would make the oracle believe B sent what the link invented.
        if (!checksum_bad) {
          oracle_.on_segment(oracle::Direction::kToTarget, parsed_, now_us());
          check_oracle();
        }
      }
    } else if (corrupted) {
      checksum_bad = !wire::parse_tcp_packet(p, parsed_) &&
                     (!parsed_.ip_checksum_ok || !parsed_.tcp_checksum_ok);
    }
    s.input(p, now_);
    if (checksum_bad && discarded(s.counters()) == discarded_before) {
      fail(std::string("corrupt-discarded: ") + side_name(to) +
           " took a packet whose checksum fails (one bit flipped by the link)");
    }
    collect();
  }

  void deliver_head(Side from) {
    std::deque<Packet>& q = queue_from(from);
    if (q.empty()) return;
    Packet p = std::move(q.front());
    q.pop_front();
    deliver(from, p, false);
    recycle(from, std::move(p));
  }

  void link_action(const Action& a) {
    std::deque<Packet>& q = queue_from(a.side);
    if (q.empty()) return;
    switch (a.kind) {
      case Kind::kDeliver:
        deliver_head(a.side);
        break;
      case Kind::kDeliverAll:
        // Delivering to one side makes only the other direction grow, so this ends.
        for (std::size_t n = q.size(); n != 0 && !q.empty() && !stopped_; --n) {
          deliver_head(a.side);
        }
        break;
      case Kind::kDrop:
        recycle(a.side, std::move(q.front()));
        q.pop_front();
        break;
      case Kind::kDuplicate: {
        const Packet copy = q.front();
        deliver(a.side, copy, false);
        break;
      }
      case Kind::kReorder: {
        Packet held = std::move(q.front());
        q.pop_front();
        deliver_head(a.side);
        if (!stopped_) deliver(a.side, held, false);
        recycle(a.side, std::move(held));
        break;
      }
      case Kind::kCorrupt: {
        Packet p = std::move(q.front());
        q.pop_front();
        if (!p.empty()) {
          const std::size_t bit = a.arg % (p.size() * 8);
          p[bit / 8] = static_cast<std::uint8_t>(p[bit / 8] ^ (1U << (bit % 8)));
        }
        deliver(a.side, p, true);
        recycle(a.side, std::move(p));
        break;
      }
      case Kind::kDelay: {
        delayed_.push_back(
            Delayed{now_ + delay_duration(a.arg), next_order_++, a.side, std::move(q.front())});
        std::push_heap(delayed_.begin(), delayed_.end(), Later{});
        q.pop_front();
        break;
      }
      default:
        break;
    }
  }

  // --- time

  std::optional<Instant> next_event() const {
    std::optional<Instant> next;
    if (!delayed_.empty()) next = delayed_.front().at;
    for (const std::optional<Instant>& d : {a_.next_deadline(), b_.next_deadline()}) {
      if (d && (!next || *d < *next)) next = d;
    }
    return next;
  }

  // Moves the clock to `t` (never back), fires the timers due then, and delivers the delayed
  // packets due then.
  void step_to(Instant t) {
    if (t <= now_) {
      if (++steps_at_now_ > kMaxStepsAtOneInstant) {
        fail("timer-livelock: after " + std::to_string(kMaxStepsAtOneInstant) + " steps at " +
             std::to_string(now_us()) + " us a stack still has a deadline at or before now (A " +
             deadline_text(a_.next_deadline()) + ", B " + deadline_text(b_.next_deadline()) + ")");
        return;
      }
    } else {
      now_ = t;
      steps_at_now_ = 0;
    }
    a_.advance(now_);
    collect();
    b_.advance(now_);
    collect();
    while (!delayed_.empty() && delayed_.front().at <= now_ && !stopped_) {
      std::pop_heap(delayed_.begin(), delayed_.end(), Later{});
      Delayed d = std::move(delayed_.back());
      delayed_.pop_back();
      deliver(d.from, d.bytes, false);
      recycle(d.from, std::move(d.bytes));
    }
  }

  static std::string deadline_text(const std::optional<Instant>& d) {
    return d ? std::to_string(d->count()) + " us" : "none";
  }

  void advance_by(Duration d) {
    const Instant target = now_ + d;
    for (;;) {
      const std::optional<Instant> next = next_event();
      if (!next || *next > target || stopped_) break;
      step_to(*next);
    }
    // The stacks' clocks move too: an application call that follows runs at the new time (a
    // close() at a stale time arms its FIN's timer in the past, and the timers then all fire at
    // once when the next packet arrives).
    if (!stopped_ && target > now_) step_to(target);
  }

  // --- the applications

  void open() {
    app_a_.side = Side::kA;
    app_b_.side = Side::kB;
    const Header& h = program_.header;
    const Side active = h.a_connects ? Side::kA : Side::kB;
    const Side passive = other(active);
    // The passive side listens first, so that the SYN finds it.
    App& server = app(passive);
    stack::Stack& ss = stack_of(passive);
    server.listener = ss.socket().value();
    log_call(passive, [&] { return socket_text(server.listener); });
    if (passive == Side::kA) set_buffers(server.listener);
    const std::uint16_t port = passive == Side::kA ? kPortA : kPortB;
    const stack::SysStatus bound = ss.bind(server.listener, port);
    log_call(passive, [&] { return bind_text(server.listener, port, result_text(bound, "0")); });
    const stack::SysStatus listening = ss.listen(server.listener, kBacklog);
    log_call(passive, [&] {
      return "listen(" + std::to_string(server.listener) + ", " + std::to_string(kBacklog) +
             ") = " + result_text(listening, "0");
    });

    App& client = app(active);
    stack::Stack& cs = stack_of(active);
    client.conn = cs.socket().value();
    log_call(active, [&] { return socket_text(client.conn); });
    if (active == Side::kA) {
      set_buffers(client.conn);
    } else {
      // B connects from a fixed port, as the script's peer does.
      (void)cs.bind(client.conn, kPortB);
    }
    const stack::Endpoint remote =
        active == Side::kA ? stack::Endpoint{kAddrB, kPortB} : stack::Endpoint{kAddrA, kPortA};
    const stack::SysStatus connected = cs.connect(client.conn, remote);
    log_call(active, [&] {
      return "connect(" + std::to_string(client.conn) + ", {sin_family=AF_INET, sin_port=htons(" +
             std::to_string(remote.port) + "), sin_addr=inet_addr(\"" + dotted(remote.addr) +
             "\")}, 16) = " + result_text(connected, "0");
    });
    if (!connected.ok() && connection_error(connected.error())) client.error = true;
    if (active == Side::kA) note_a_connection();
    collect();
  }

  static std::string socket_text(SocketId fd) {
    return "socket(..., SOCK_STREAM, IPPROTO_TCP) = " + std::to_string(fd);
  }
  static std::string bind_text(SocketId fd, std::uint16_t port, const std::string& result) {
    return "bind(" + std::to_string(fd) + ", {sin_family=AF_INET, sin_port=htons(" +
           std::to_string(port) + "), sin_addr=INADDR_ANY}, 16) = " + result;
  }

  // A's buffer sizes go through setsockopt() (there is no knob for them), before connect() or
  // listen() so that the connection starts with them.
  void set_buffers(SocketId fd) {
    const Header& h = program_.header;
    const auto set = [&](stack::SocketOption opt, const char* name, std::uint32_t value) {
      if (value == 0) return;
      const auto v = static_cast<int>(value);
      const stack::SysStatus r = a_.setsockopt(fd, opt, v);
      log_call(Side::kA, [&] {
        return "setsockopt(" + std::to_string(fd) + ", SOL_SOCKET, " + name + ", [" +
               std::to_string(v) + "], 4) = " + result_text(r, "0");
      });
    };
    set(stack::SocketOption::kRcvBuf, "SO_RCVBUF", kBufferChoices[h.a_rcv_buf]);
    set(stack::SocketOption::kSndBuf, "SO_SNDBUF", kBufferChoices[h.a_snd_buf]);
  }

  // The 4-tuple the oracle files A's application calls under.
  void note_a_connection() {
    if (const std::optional<stack::Snapshot> s = a_.snapshot(app_a_.conn)) {
      a_key_ = oracle::ConnKey{wire::Ipv4Addr{s->local_addr}, s->local_port,
                               wire::Ipv4Addr{s->remote_addr}, s->remote_port};
    }
  }

  // The connection's socket to act on: accepted first on the passive side; -1 when there is
  // none (not accepted yet, or closed by the application).
  SocketId connection(App& x) {
    if (x.conn >= 0) return x.conn_closed ? -1 : x.conn;
    if (x.listener < 0 || x.listener_closed) return -1;
    stack::Stack& s = stack_of(x.side);
    const stack::SysResult<SocketId> r = s.accept(x.listener);
    log_call(x.side, [&] {
      return "accept(" + std::to_string(x.listener) +
             ", ..., ...) = " + result_text(r, r.ok() ? std::to_string(r.value()) : "");
    });
    collect();
    if (!r.ok()) {
      if (connection_error(r.error())) x.error = true;
      return -1;
    }
    x.conn = r.value();
    if (x.side == Side::kA) note_a_connection();
    return x.conn;
  }

  void app_write(App& x, std::size_t n) {
    const SocketId fd = connection(x);
    if (fd < 0 || stopped_) return;
    n = std::min(n, write_limit(program_.header) - x.requested);
    StreamRecord& stream = stream_from(x.side);
    scratch_.resize(n);
    // A: write_byte(n) for the n-th byte asked for over the session, as the script runner
    // writes; B: the pattern at each byte's relative sequence number, as the script's peer
    // sends (harness/script/patterns.h).
    if (x.side == Side::kA) {
      script::fill_write(scratch_, x.requested);
    } else {
      script::fill_pattern(scratch_, static_cast<std::uint32_t>(stream.written() + 1));
    }
    stack::Stack& s = stack_of(x.side);
    const stack::SysResult<std::size_t> r = s.write(fd, scratch_);
    x.requested += n;
    log_call(x.side, [&] {
      return "write(" + std::to_string(fd) + ", ..., " + std::to_string(n) +
             ") = " + result_text(r, r.ok() ? std::to_string(r.value()) : "");
    });
    if (r.ok()) {
      const std::span<const std::uint8_t> accepted(scratch_.data(), r.value());
      stream.wrote(accepted);
      if (x.side == Side::kA && a_key_) {
        oracle_.on_app_write(*a_key_, accepted);
        check_oracle();
      }
    } else if (connection_error(r.error()) && !(r.error() == EPIPE && x.shut_wr)) {
      x.error = true;
    }
    collect();
  }

  // One read() of up to `max` bytes. Returns false when there is nothing more to read now.
  bool app_read(App& x, std::size_t max) {
    const SocketId fd = connection(x);
    if (fd < 0 || stopped_) return false;
    stack::Stack& s = stack_of(x.side);
    stack::SysResult<std::vector<std::uint8_t>> r = s.read(fd, max);
    log_call(x.side, [&] {
      return "read(" + std::to_string(fd) + ", ..., " + std::to_string(max) +
             ") = " + result_text(r, r.ok() ? std::to_string(r.value().size()) : "");
    });
    bool more = false;
    if (!r.ok()) {
      if (connection_error(r.error())) x.error = true;
    } else if (r.value().empty()) {
      // After a reset or timeout has been reported once, read() says end of stream (as Linux
      // does); only an end of stream without an error promises that every byte came.
      x.eof = true;
      if (!x.error) {
        const std::string v = stream_from(other(x.side)).end_of_stream();
        // A FIN comes after every byte before it, so the reader's stack had them all: with its
        // connection gone, it threw away bytes the application had not read yet.
        if (!v.empty() && !s.snapshot(fd)) {
          fail(std::string("unread-data-discarded: side ") + side_name(x.side) +
               "'s connection ended while its application had bytes left to read; " + v);
        } else if (!v.empty()) {
          fail(v);
        }
      }
    } else {
      std::vector<std::uint8_t> bytes = std::move(r).value();
      if (x.side == Side::kB && hooks_.tamper_b_read) {
        const std::size_t at = *hooks_.tamper_b_read;
        const std::size_t before = a_to_b_.read_so_far();
        if (at >= before && at < before + bytes.size()) bytes[at - before] ^= 1U;
      }
      if (x.side == Side::kA && a_key_) {
        oracle_.on_app_read(*a_key_, bytes);
        check_oracle();
      }
      const std::string v = stream_from(other(x.side)).read(bytes);
      if (!v.empty()) fail(v);
      more = true;
    }
    collect();
    return more;
  }

  void app_shutdown(App& x) {
    const SocketId fd = connection(x);
    if (fd < 0 || stopped_) return;
    const stack::SysStatus r = stack_of(x.side).shutdown(fd, stack::Shutdown::kWrite);
    log_call(x.side, [&] {
      return "shutdown(" + std::to_string(fd) + ", SHUT_WR) = " + result_text(r, "0");
    });
    if (r.ok()) {
      x.shut_wr = true;
    } else if (r.error() != ENOTCONN) {
      x.error = true;
    }
    collect();
  }

  void app_close(App& x) {
    SocketId* fd = nullptr;
    if (x.conn >= 0 && !x.conn_closed) {
      fd = &x.conn;
      x.conn_closed = true;
    } else if (x.listener >= 0 && !x.listener_closed) {
      fd = &x.listener;
      x.listener_closed = true;
    } else {
      return;
    }
    const stack::SysStatus r = stack_of(x.side).close(*fd);
    log_call(x.side, [&] { return "close(" + std::to_string(*fd) + ") = " + result_text(r, "0"); });
    collect();
  }

  void act(const Action& a) {
    switch (a.kind) {
      case Kind::kWrite:
        app_write(app(a.side), a.arg);
        break;
      case Kind::kRead:
        app_read(app(a.side), std::size_t{a.arg} + 1);
        break;
      case Kind::kShutdown:
        app_shutdown(app(a.side));
        break;
      case Kind::kClose:
        app_close(app(a.side));
        break;
      case Kind::kAdvanceTiny:
        advance_by(tiny_duration(a.arg));
        break;
      case Kind::kAdvanceTimer:
        advance_by(advance_timer_duration(a.arg));
        break;
      case Kind::kAdvanceToEvent:
        if (const std::optional<Instant> next = next_event()) step_to(*next);
        break;
      default:
        link_action(a);
        break;
    }
  }

  // --- the end: heal the link and check that everything arrived

  // Accepts, then reads everything there is, as long as poll() would say there is something.
  void drain(App& x) {
    if (x.eof || x.error || x.conn_closed) return;
    stack::Stack& s = stack_of(x.side);
    if (x.conn < 0) {
      if (x.listener < 0 || x.listener_closed) return;
      if ((s.events(x.listener) & stack::event::kIn) == 0) return;
    } else if ((s.events(x.conn) & (stack::event::kIn | stack::event::kErr | stack::event::kHup)) ==
               0) {
      return;
    }
    while (!stopped_ && app_read(x, kReadChunk)) {
    }
  }

  void heal() {
    const Instant end = now_ + kHealTime;
    std::size_t delivered = 0;
    for (std::size_t round = 0; !stopped_; ++round) {
      if (round > kMaxHealRounds || delivered > kMaxHealPackets) {
        fail("heal-livelock: the healed link has not settled after " + std::to_string(round) +
             " rounds and " + std::to_string(delivered) + " packets (" +
             std::to_string((now_ - end + kHealTime).count() / 1000) + " ms)");
        return;
      }
      // Everything held back arrives now, in the order it was due.
      while (!delayed_.empty() && !stopped_) {
        std::pop_heap(delayed_.begin(), delayed_.end(), Later{});
        Delayed d = std::move(delayed_.back());
        delayed_.pop_back();
        deliver(d.from, d.bytes, false);
        recycle(d.from, std::move(d.bytes));
        ++delivered;
      }
      for (const Side from : {Side::kA, Side::kB}) {
        while (!queue_from(from).empty() && !stopped_) {
          deliver_head(from);
          ++delivered;
        }
      }
      drain(app_a_);
      drain(app_b_);
      if (!queue_from(Side::kA).empty() || !queue_from(Side::kB).empty()) continue;
      const std::optional<Instant> next = next_event();
      if (!next || *next > end) break;
      step_to(*next);
    }
  }

  // A connection that was reset or timed out may lose bytes without a wrong byte ever being
  // read; an error reaching either application says as much, and so do the stacks' counters:
  // an orphaned connection times out with no application left to tell, and a RST (a close()
  // with unread data, data arriving after close()) is never retransmitted, so the link may
  // lose the only word of it.
  bool excused() const {
    if (app_a_.error || app_b_.error) return true;
    for (const stack::Stack* s : {&a_, &b_}) {
      const stack::StackCounters& c = s->counters();
      if (c.timeouts + c.keepalive_timeouts + c.resets_received + c.resets_sent != 0) {
        return true;
      }
    }
    return false;
  }

  void check_complete() {
    if (excused()) return;
    for (const Side writer : {Side::kA, Side::kB}) {
      const App& w = app(writer);
      const App& r = app(other(writer));
      // A reader that closed its socket, or never had a connection, reads nothing more.
      if (r.conn < 0 || r.conn_closed) continue;
      const StreamRecord& stream = stream_from(writer);
      if (stream.read_so_far() != stream.written()) {
        fail(std::string("stream-incomplete: side ") + side_name(r.side) + " read " +
             std::to_string(stream.read_so_far()) + " of the " + std::to_string(stream.written()) +
             " bytes " + side_name(writer) + " wrote, with the link healed and both stacks quiet");
        return;
      }
      // The writer's FIN follows its data (a close() with unread data would have reset).
      if ((w.shut_wr || w.conn_closed) && !r.eof) {
        fail(std::string("stream-incomplete: side ") + side_name(r.side) +
             " never saw end of stream, though " + side_name(writer) + " sent FIN (" +
             (w.shut_wr ? "shutdown" : "close") + ") and the link healed");
        return;
      }
    }
  }

  const Program& program_;
  Observer* observer_;
  bool calls_;
  TestHooks hooks_;
  stack::Stack a_;
  stack::Stack b_;
  oracle::Oracle oracle_;
  wire::TcpPacket parsed_;     // the packet parsed last, its buffers reused for the run
  std::vector<Packet> taken_;  // a stack's output being collected, the list reused likewise
  std::optional<oracle::ConnKey> a_key_;
  std::array<std::deque<Packet>, 2> queues_;  // by sending side
  std::vector<Delayed> delayed_;              // a min-heap on (at, order)
  std::uint64_t next_order_ = 0;
  StreamRecord a_to_b_{Side::kA};
  StreamRecord b_to_a_{Side::kB};
  App app_a_;
  App app_b_;
  std::vector<std::uint8_t> scratch_;
  Instant now_{0};
  int steps_at_now_ = 0;
  std::uint64_t packets_ = 0;
  bool stopped_ = false;
  std::string finding_;
};

}  // namespace

stack::StackConfig a_config(const Header& h) {
  stack::StackConfig c;
  c.local_addr = kAddrA;
  c.alias_addrs = {kAliasA};
  c.timestamps = h.a_timestamps;
  c.sack = h.a_sack;
  c.mss = kMssChoices[h.a_mss];
  return c;
}

std::vector<std::string> a_knobs(const Header& h) {
  std::vector<std::string> k;
  const stack::StackConfig d;
  if (h.a_timestamps != d.timestamps) k.emplace_back("--tcp_timestamps=0");
  if (h.a_sack != d.sack) k.emplace_back("--tcp_sack=0");
  if (kMssChoices[h.a_mss] != d.mss) k.push_back("--mss=" + std::to_string(kMssChoices[h.a_mss]));
  return k;
}

RunResult run(const Program& p, Observer* observer, const TestHooks& hooks) {
  Session s(p, observer, hooks);
  return s.run();
}

}  // namespace synack::fuzz::pair

namespace synack::fuzz {

namespace {

class LogObserver : public pair::Observer {
 public:
  explicit LogObserver(SessionLog& log) : log_(log) {}
  bool record_calls() const override { return true; }
  void packet_to_a(std::span<const std::uint8_t> packet, std::int64_t time_us) override {
    add(LogEvent::Kind::kInbound, time_us, packet, {});
  }
  void packet_from_a(std::span<const std::uint8_t> packet, std::int64_t time_us) override {
    add(LogEvent::Kind::kOutbound, time_us, packet, {});
  }
  void call_on_a(const std::string& call, std::int64_t time_us) override {
    add(LogEvent::Kind::kCall, time_us, {}, call);
  }
  void violation(const std::string& finding) override { log_.finding = finding; }

 private:
  void add(LogEvent::Kind k, std::int64_t t, std::span<const std::uint8_t> packet,
           const std::string& call) {
    LogEvent e;
    e.kind = k;
    e.time_us = t;
    e.packet.assign(packet.begin(), packet.end());
    e.call = call;
    log_.events.push_back(std::move(e));
  }
  SessionLog& log_;
};

}  // namespace

SessionLog pair_log(const std::uint8_t* data, std::size_t size) {
  const pair::Program p = pair::decode({data, size});
  SessionLog log;
  log.knobs = pair::a_knobs(p.header);
  LogObserver observer(log);
  (void)pair::run(p, &observer);
  // B's payload bytes are pattern_byte of their sequence number relative to B's ISN, which is
  // the rendered script's --harness_isn: B's first SYN or SYN-ACK to A says what it is.
  for (const LogEvent& e : log.events) {
    if (e.kind != LogEvent::Kind::kInbound) continue;
    const auto parsed = wire::parse_tcp_packet(e.packet);
    if (parsed && parsed->tcp.has(wire::tcp_flags::kSyn) &&
        !parsed->tcp.has(wire::tcp_flags::kRst)) {
      log.harness_isn = parsed->tcp.seq.raw();
      break;
    }
  }
  return log;
}

}  // namespace synack::fuzz
