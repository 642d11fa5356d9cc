#include "fuzz/session/session.h"

#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include "harness/oracle/oracle.h"
#include "harness/script/patterns.h"
#include "harness/target/stack_calls.h"
#include "harness/wire/format.h"
#include "harness/wire/icmp.h"
#include "harness/wire/tcp.h"
#include "stack/stack.h"

namespace synack::fuzz::session {
namespace {

using stack::Instant;
using stack::SocketOption;
using wire::Seq;

constexpr std::int64_t kUs = 1;
constexpr std::int64_t kMs = 1000 * kUs;
constexpr std::int64_t kSec = 1000 * kMs;
// Timer steps one Advance may take before it stops where it is: a zero-window probe or
// keep-alive every two minutes over a 50-day jump would otherwise be 36,000 steps.
constexpr int kMaxTimerSteps = 64;

std::string errno_text(int e) {
  switch (e) {
    case EAGAIN:
      return "EAGAIN (Resource temporarily unavailable)";
    case EINPROGRESS:
      return "EINPROGRESS (Operation now in progress)";
    default: {
      const char* name = strerrorname_np(e);
      return name != nullptr ? name : "errno " + std::to_string(e);
    }
  }
}

template <class T>
std::string result_text(const stack::SysResult<T>& r, std::int64_t value) {
  return r.ok() ? std::to_string(value) : "-1 " + errno_text(r.error());
}

// The script runner's view of one flow (harness port), kept the runner's way so that the
// packets built here are the packets the rendered script makes.
struct Flow {
  std::uint32_t peer_snd_nxt = 0;  // after the highest sequence number the harness sent
  bool peer_sent = false;
  std::uint32_t peer_tsval = 1;
  std::optional<std::uint32_t> stack_isn;  // the runner's target_isn
  bool isn_fresh = true;
  bool stack_sent_syn_last = false;
  bool learn_stack_port = false;
  std::optional<std::uint16_t> stack_port;  // learned on an active open
  std::optional<std::uint32_t> last_tsval;  // the stack's, echoed in TS ecr
};

// The stack's option for each of the trace's kSockoptNames, and its level in the script.
struct IntOption {
  const char* level;
  SocketOption option;
};
constexpr auto kOptions = std::to_array<IntOption>({
    {"IPPROTO_TCP", SocketOption::kNoDelay},
    {"SOL_SOCKET", SocketOption::kKeepAlive},
    {"IPPROTO_TCP", SocketOption::kKeepIdle},
    {"IPPROTO_TCP", SocketOption::kKeepInterval},
    {"IPPROTO_TCP", SocketOption::kKeepCount},
    {"SOL_SOCKET", SocketOption::kRcvBuf},
    {"SOL_SOCKET", SocketOption::kSndBuf},
    {"IPPROTO_TCP", SocketOption::kMaxSeg},
    {"IPPROTO_TCP", SocketOption::kUserTimeout},
    {"SOL_SOCKET", SocketOption::kReuseAddr},
    {"IPPROTO_IP", SocketOption::kTos},
    {"IPPROTO_IP", SocketOption::kTtl},
    {"SOL_SOCKET", SocketOption::kError},
});
static_assert(kOptions.size() == kSockoptCount);

constexpr std::size_t kMaxWrite = 20000;  // Call::Op::kWrite writes arg % kMaxWrite + 1 bytes

// The bytes of write() number `offset` .. offset + n of the session: script::write_byte, which
// repeats every 26 bytes, cut from one table built once (filling byte by byte was the executor's
// hottest loop).
std::span<const std::uint8_t> write_data(std::size_t offset, std::size_t n) {
  static const std::vector<std::uint8_t> kTable = [] {
    std::vector<std::uint8_t> t(kMaxWrite + 26);
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = script::write_byte(i);
    return t;
  }();
  return std::span<const std::uint8_t>(kTable).subspan(offset % 26, n);
}

// A point of the stack's send sequence space on a flow: the flow's ISN as learned from the
// stack's SYN, or a field of the connection's TCB; `without_tcb` when the stack has none.
std::uint32_t send_anchor(AckAnchor a, const std::optional<stack::Snapshot>& tcb, std::uint32_t iss,
                          std::uint32_t without_tcb) {
  if (a == AckAnchor::kStackIss) return iss;
  if (!tcb) return without_tcb;
  switch (a) {
    case AckAnchor::kSndUna:
      return tcb->snd_una.value();
    case AckAnchor::kSndNxt:
      return tcb->snd_nxt.value();
    case AckAnchor::kSndMax:
      return tcb->snd_max.value();
    default:  // kSndWndEdge
      return tcb->snd_una.value() + tcb->snd_wnd;
  }
}

class Session {
 public:
  Session(const Config& config, SessionLog* log) : log_(log), stack_(stack_config(config), 1) {
    stack_.set_invariant_handler([this](const std::string& what, const stack::Snapshot& at) {
      if (!finding_.empty()) return;
      finding_ = "invariant " + what + ": " + describe_snapshot(at);
    });
    if (log_ != nullptr) log_->knobs = knob_lines(config);
  }

  const std::string& finding() const { return finding_; }
  const RunStats& stats() const { return stats_; }

  void step(const Op& op) {
    if (const auto* s = std::get_if<Segment>(&op)) {
      segment(*s);
    } else if (const auto* a = std::get_if<Advance>(&op)) {
      advance(*a);
    } else if (const auto* c = std::get_if<Call>(&op)) {
      call(*c);
    } else if (const auto* m = std::get_if<Icmp>(&op)) {
      icmp(*m);
    }
  }

  void finish() {
    oracle_.finish(now_);
    stats_.end_time_us = now_;
  }

 private:
  static stack::StackConfig stack_config(const Config& c) {
    stack::StackConfig config;
    config.local_addr = kStackAddr;
    config.alias_addrs = {0xc0a80003};
    for (const std::string& line : knob_lines(c)) {
      const std::size_t eq = line.find('=');
      target::apply_stack_option(config, line.substr(2, eq - 2), line.substr(eq + 1));
    }
    return config;
  }

  static std::string describe_snapshot(const stack::Snapshot& s) {
    return "state " + std::to_string(static_cast<unsigned>(s.state)) + " port " +
           std::to_string(s.local_port) + ">" + std::to_string(s.remote_port) + " iss " +
           std::to_string(s.iss.value()) + " snd_una " + std::to_string(s.snd_una.value()) +
           " snd_nxt " + std::to_string(s.snd_nxt.value()) + " snd_max " +
           std::to_string(s.snd_max.value()) + " snd_wnd " + std::to_string(s.snd_wnd) + " irs " +
           std::to_string(s.irs.value()) + " rcv_nxt " + std::to_string(s.rcv_nxt.value()) +
           " rcv_wnd " + std::to_string(s.rcv_wnd) + " rcv_adv " +
           std::to_string(s.rcv_adv.value());
  }

  // The live connection with the harness port `port`, if any (the newest incarnation).
  std::optional<stack::Snapshot> connection(std::uint16_t port) const {
    return stack_.connection(stack::Endpoint{kPeerAddr, port});
  }

  void note_oracle() {
    if (finding_.empty() && !oracle_.ok()) {
      finding_ = "oracle " + oracle_.violations().front().to_string();
    }
  }

  void log_packet(LogEvent::Kind k, const std::vector<std::uint8_t>& p) {
    if (log_ != nullptr) log_->events.push_back({k, now_, p, {}});
  }
  // `text` makes the call's script line; it runs only when a log records it (fuzzing does not).
  template <typename Text>
  void log_call(Text&& text) {
    ++stats_.calls;
    if (log_ != nullptr) log_->events.push_back({LogEvent::Kind::kCall, now_, {}, text()});
  }

  // Everything the stack has sent: to the oracle and the log; the runner's learning per flow.
  void drain() {
    stack_.take_output(output_);
    for (const stack::Packet& out : output_) {
      ++stats_.segments_out;
      log_packet(LogEvent::Kind::kOutbound, out);
      // ICMP or not TCP: the oracle is about TCP.
      if (wire::parse_tcp_packet(out, parsed_)) continue;
      oracle_.on_segment(oracle::Direction::kFromTarget, parsed_, now_);
      note_oracle();
      const std::uint16_t port = parsed_.tcp.dst_port;
      if (port < kFirstPeerPort || port >= kFirstPeerPort + kFlows) continue;
      Flow& f = flows_[port - kFirstPeerPort];
      const wire::TcpHeader& h = parsed_.tcp;
      if (h.has(wire::tcp_flags::kSyn) && (f.isn_fresh || !f.stack_isn)) {
        f.stack_isn = h.seq.raw();
        f.isn_fresh = false;
      }
      if (h.has(wire::tcp_flags::kRst)) f.isn_fresh = true;
      f.stack_sent_syn_last = h.has(wire::tcp_flags::kSyn);
      if (f.learn_stack_port && !f.stack_port) f.stack_port = h.src_port;
      if (const auto* ts = h.find<wire::OptTimestamps>()) f.last_tsval = ts->val;
    }
  }

  void segment(const Segment& s) {
    const auto port = static_cast<std::uint16_t>(kFirstPeerPort + s.flow);
    Flow& f = flows_[s.flow];
    const std::optional<stack::Snapshot> tcb = connection(port);
    const bool syn_only =
        (s.flags & (wire::tcp_flags::kSyn | wire::tcp_flags::kAck)) == wire::tcp_flags::kSyn;
    if ((s.flags & wire::tcp_flags::kRst) != 0 || (syn_only && !f.stack_sent_syn_last)) {
      f.isn_fresh = true;
    }

    std::uint32_t seq = 0;
    switch (s.seq_anchor) {
      case SeqAnchor::kPeerIss:
        seq = 0;
        break;
      case SeqAnchor::kPeerSndNxt:
        seq = f.peer_snd_nxt;
        break;
      case SeqAnchor::kRcvNxt:
        seq = tcb ? tcb->rcv_nxt.value() : f.peer_snd_nxt;
        break;
      default:
        seq = tcb ? tcb->rcv_adv.value() : f.peer_snd_nxt + 65535;
    }
    seq += static_cast<std::uint32_t>(s.seq_offset);
    const std::uint32_t iss = f.stack_isn.value_or(0);
    std::uint32_t ack = send_anchor(s.ack_anchor, tcb, iss, iss + 1);
    ack += static_cast<std::uint32_t>(s.ack_offset);

    // Built in `in_`, every field afresh but the option list's and payload's buffers kept.
    std::vector<wire::TcpOption> options = std::move(in_.tcp.options);
    options.clear();
    wire::Bytes payload = std::move(in_.payload);
    in_ = wire::TcpPacket{};
    in_.tcp.options = std::move(options);
    in_.payload = std::move(payload);
    wire::TcpPacket& p = in_;
    p.ip.src = wire::Ipv4Addr{kPeerAddr};
    p.ip.dst = wire::Ipv4Addr{kStackAddr};
    p.ip.flags = wire::kIpFlagDontFragment;
    p.tcp.src_port = port;
    p.tcp.dst_port = f.stack_port.value_or(bound_port_);
    p.tcp.seq = Seq(seq);
    p.tcp.flags = s.flags;
    // The runner writes an ACK field only when the line has one; without ACK it is 0.
    if ((s.flags & wire::tcp_flags::kAck) != 0) p.tcp.ack = Seq(ack);
    p.tcp.window = s.window;
    p.tcp.urgent_pointer = s.urgent_pointer;
    if (s.options != 0) p.tcp.options.reserve(5);  // at most one of each kind below
    if ((s.options & opt::kMss) != 0) p.tcp.options.emplace_back(wire::OptMss{s.mss});
    if ((s.options & opt::kSackOk) != 0) p.tcp.options.emplace_back(wire::OptSackPermitted{});
    if ((s.options & opt::kTimestamps) != 0) {
      f.peer_tsval += static_cast<std::uint32_t>(static_cast<std::int32_t>(s.tsval_step));
      p.tcp.options.emplace_back(wire::OptTimestamps{f.peer_tsval, f.last_tsval.value_or(0)});
    }
    if ((s.options & opt::kWscale) != 0) {
      p.tcp.options.emplace_back(wire::OptWindowScale{s.wscale});
    }
    if ((s.options & opt::kSack) != 0 && s.sack_length != 0) {
      const std::uint32_t base = tcb ? tcb->snd_una.value() : iss + 1;
      const std::uint32_t left =
          base + static_cast<std::uint32_t>(static_cast<std::int32_t>(s.sack_offset));
      wire::OptSack sack;
      sack.blocks.push_back({Seq(left), Seq(left + s.sack_length)});
      p.tcp.options.emplace_back(std::move(sack));
    }
    if (p.tcp.emitted_option_length() > wire::kTcpMaxOptions) p.tcp.options.pop_back();
    p.payload.resize(s.payload_length);
    script::fill_pattern(p.payload, seq);  // relative to harness_isn 0
    if (s.bad_checksum) {
      p.tcp.checksum = static_cast<std::uint16_t>(wire::correct_tcp_checksum(p) ^ 0xffff);
    }
    in_bytes_.clear();
    wire::emit(p, in_bytes_);
    const wire::Bytes& bytes = in_bytes_;

    const std::uint32_t end = seq + p.segment_length();
    if (!f.peer_sent || static_cast<std::int32_t>(end - f.peer_snd_nxt) > 0) f.peer_snd_nxt = end;
    f.peer_sent = true;

    ++stats_.segments_in;
    log_packet(LogEvent::Kind::kInbound, bytes);
    if (!wire::parse_tcp_packet(bytes, parsed_)) {  // checksum verdicts as on the wire
      oracle_.on_segment(oracle::Direction::kToTarget, parsed_, now_);
      note_oracle();
    }
    stack_.input(bytes, Instant(now_));
    drain();
  }

  // An ICMP error about a segment the stack sent on the flow, built as the runner builds a
  // "< icmp TYPE CODE [mtu N] [start:end(len)]" line: the quoted header is the stack's (DF,
  // TCP, 192.168.0.1 > 192.168.0.2), with the stack's port, the harness port and the sequence
  // number. The oracle is about TCP segments only and does not see it.
  void icmp(const Icmp& m) {
    const auto port = static_cast<std::uint16_t>(kFirstPeerPort + m.flow);
    Flow& f = flows_[m.flow];
    const std::optional<stack::Snapshot> tcb = connection(port);
    const std::uint32_t iss = f.stack_isn.value_or(0);
    std::uint32_t seq = send_anchor(m.anchor, tcb, iss, iss);
    seq += static_cast<std::uint32_t>(m.offset);
    const IcmpTypeCode tc =
        kIcmpTypeCodes[static_cast<std::size_t>(m.kind) % kIcmpTypeCodes.size()];
    wire::Ipv4Header original;
    original.flags = wire::kIpFlagDontFragment;
    original.protocol = wire::kIpProtoTcp;
    original.src = wire::Ipv4Addr{kStackAddr};
    original.dst = wire::Ipv4Addr{kPeerAddr};
    wire::Bytes tcp_start;
    wire::append_be16(tcp_start, f.stack_port.value_or(bound_port_));
    wire::append_be16(tcp_start, port);
    wire::append_be32(tcp_start, seq);
    wire::IcmpPacket p;
    p.ip.src = wire::Ipv4Addr{kPeerAddr};
    p.ip.dst = wire::Ipv4Addr{kStackAddr};
    p.ip.flags = wire::kIpFlagDontFragment;
    p.icmp.type = tc.type;
    p.icmp.code = tc.code;
    const bool frag_needed = tc.type == 3 && tc.code == 4;
    p.icmp.rest = frag_needed ? m.mtu : 0;
    p.icmp.body = wire::icmp_quote(original, wire::kTcpMinHeader + m.quoted_length, tcp_start);
    const std::vector<std::uint8_t> bytes = wire::emit(p);
    ++stats_.segments_in;
    log_packet(LogEvent::Kind::kInbound, bytes);
    stack_.input(bytes, Instant(now_));
    drain();
  }

  void advance(const Advance& a) {
    std::int64_t target = now_;
    switch (a.kind) {
      case Advance::Kind::kTiny:
        target += a.amount % (2 * kMs + 1);
        break;
      case Advance::Kind::kTimerSized: {
        constexpr std::array<std::int64_t, 8> kTimers = {
            40 * kMs, 200 * kMs, kSec, 3 * kSec, 60 * kSec, 75 * kSec, 120 * kSec, 7200 * kSec};
        const std::int64_t base = kTimers[a.amount % kTimers.size()];
        const auto jitter = static_cast<std::int64_t>((a.amount >> 8) % 21) - 10;  // percent
        target += base + base * jitter / 100;
        break;
      }
      case Advance::Kind::kNextDeadline: {
        const auto due = stack_.next_deadline();
        target = due ? std::max(now_, static_cast<std::int64_t>(due->count())) : now_;
        target += a.amount % 101;
        break;
      }
      default:
        target += static_cast<std::int64_t>(a.amount) * 1024;  // up to about 51 days
    }
    // Timers fire at their own deadlines, one after another, as the inproc target runs them.
    for (int steps = 0;; ++steps) {
      const auto due = stack_.next_deadline();
      if (!due || due->count() > target) break;
      if (steps == kMaxTimerSteps) {
        target = now_;
        break;
      }
      now_ = std::max(now_, static_cast<std::int64_t>(due->count()));
      stack_.advance(Instant(now_));
      drain();
      if (!finding_.empty()) return;
    }
    now_ = target;
    stack_.advance(Instant(now_));
    drain();
  }

  // The observation calls go through the inproc target's own mapping (stack_calls.h), so they
  // answer exactly what the rendered script's line will be checked against.
  void observe(const Call& c, int fd, const std::string& fd_text) {
    target::SockCall sc;
    sc.fd = fd;
    if (c.op == Call::Op::kGetsockopt || c.op == Call::Op::kGetsockoptMore) {
      const std::size_t which = getsockopt_choice(c);
      sc.op = target::SockCall::Op::kGetsockopt;
      sc.option = kSockoptNames[which];
      const char* level = kOptions[which].level;
      const target::SockResult r = target::stack_call(stack_, sc, kPeerAddr);
      log_call([&] {
        return "getsockopt(" + fd_text + ", " + level + ", " + sc.option + ", " +
               (r.ret == 0 ? "[" + std::to_string(r.value) + "], [4]) = 0"
                           : "..., ...) = -1 " + errno_text(r.err));
      });
    } else if (c.op == Call::Op::kPoll) {
      sc.op = target::SockCall::Op::kPoll;
      sc.poll_events = 0x001 | 0x004 | 0x2000;  // POLLIN | POLLOUT | POLLRDHUP
      const target::SockResult r = target::stack_call(stack_, sc, kPeerAddr);
      log_call([&] {
        return "poll([{fd=" + fd_text +
               ", events=POLLIN|POLLOUT|POLLRDHUP, revents=" + std::to_string(r.value) +
               "}], 1, 0) = " + std::to_string(r.ret);
      });
    } else {
      const bool inq = (c.arg & 1) == 0;
      sc.op = inq ? target::SockCall::Op::kIoctlInq : target::SockCall::Op::kIoctlOutq;
      const target::SockResult r = target::stack_call(stack_, sc, kPeerAddr);
      log_call([&] {
        return "ioctl(" + fd_text + ", " + (inq ? "SIOCINQ" : "SIOCOUTQ") + ", " +
               (r.ret == 0 ? "[" + std::to_string(r.value) + "]) = 0"
                           : "...) = -1 " + errno_text(r.err));
      });
    }
  }

  int socket_in(std::uint8_t slot) const {
    return sockets_.empty() ? -1 : sockets_[slot % sockets_.size()];
  }

  std::optional<oracle::ConnKey> key_of(int fd) const {
    auto local = stack_.local_endpoint(fd);
    auto remote = stack_.remote_endpoint(fd);
    if (!local || !remote) return std::nullopt;
    return oracle::ConnKey{wire::Ipv4Addr{local.value().addr}, local.value().port,
                           wire::Ipv4Addr{remote.value().addr}, remote.value().port};
  }

  std::optional<int> new_socket() {
    if (sockets_.size() >= kMaxSockets) return std::nullopt;
    auto s = stack_.socket();
    log_call([&] {
      return "socket(..., SOCK_STREAM, IPPROTO_TCP) = " + result_text(s, s.ok() ? s.value() : 0);
    });
    if (!s) return std::nullopt;
    sockets_.push_back(s.value());
    return s.value();
  }

  // connect(fd, 192.168.0.2, 40000 + arg % kFlows); a connection it starts is the flow's new
  // one, whose port and ISN the flow learns from its SYN.
  void connect(int fd, std::uint32_t arg) {
    const auto port = static_cast<std::uint16_t>(kFirstPeerPort + arg % kFlows);
    auto r = stack_.connect(fd, stack::Endpoint{kPeerAddr, port});
    if (r.ok() || r.error() == EINPROGRESS) {
      Flow& f = flows_[port - kFirstPeerPort];
      f.learn_stack_port = true;
      f.stack_port.reset();
      f.isn_fresh = true;
    }
    log_call([&] {
      return "connect(" + std::to_string(fd) + ", {sin_family=AF_INET, sin_port=htons(" +
             std::to_string(port) +
             "), sin_addr=inet_addr(\"192.168.0.2\")}, 16) = " + result_text(r, 0);
    });
  }

  void call(const Call& c) {
    const std::string fd_text = std::to_string(socket_in(c.slot));
    switch (c.op) {
      case Call::Op::kListen: {
        const auto s = new_socket();
        if (!s) break;
        auto b = stack_.bind(*s, stack::Endpoint{0, kListenPort});
        bound_port_ = kListenPort;
        log_call([&] {
          return "bind(" + std::to_string(*s) + ", {sin_family=AF_INET, sin_port=htons(" +
                 std::to_string(kListenPort) +
                 "), sin_addr=INADDR_ANY}, 16) = " + result_text(b, 0);
        });
        const int backlog = static_cast<int>(c.arg % 8 + 1);
        auto l = stack_.listen(*s, backlog);
        log_call([&] {
          return "listen(" + std::to_string(*s) + ", " + std::to_string(backlog) +
                 ") = " + result_text(l, 0);
        });
        break;
      }
      case Call::Op::kConnect: {
        if (const auto s = new_socket()) connect(*s, c.arg);
        break;
      }
      case Call::Op::kAccept: {
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        auto r = stack_.accept(fd);
        log_call([&] {
          return "accept(" + fd_text + ", ..., ...) = " + result_text(r, r.ok() ? r.value() : 0);
        });
        if (r && sockets_.size() < kMaxSockets) sockets_.push_back(r.value());
        break;
      }
      case Call::Op::kRead: {
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        const std::size_t max = c.arg % 65536 + 1;
        auto r = stack_.read(fd, max);
        log_call([&] {
          return "read(" + fd_text + ", ..., " + std::to_string(max) +
                 ") = " + result_text(r, r.ok() ? static_cast<std::int64_t>(r.value().size()) : 0);
        });
        if (r && !r.value().empty()) {
          if (auto k = key_of(fd)) {
            oracle_.on_app_read(*k, r.value(), now_);
            note_oracle();
          }
        }
        break;
      }
      case Call::Op::kWrite: {
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        const std::size_t n = c.arg % kMaxWrite + 1;
        const std::span<const std::uint8_t> data = write_data(written_, n);
        written_ += n;
        auto r = stack_.write(fd, data);
        log_call([&] {
          return "write(" + fd_text + ", ..., " + std::to_string(n) +
                 ") = " + result_text(r, r.ok() ? static_cast<std::int64_t>(r.value()) : 0);
        });
        if (r && r.value() > 0) {
          if (auto k = key_of(fd)) {
            oracle_.on_app_write(*k, data.first(r.value()), now_);
            note_oracle();
          }
        }
        break;
      }
      case Call::Op::kShutdown: {
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        constexpr std::array<const char*, 3> kHow = {"SHUT_RD", "SHUT_WR", "SHUT_RDWR"};
        constexpr std::array<stack::Shutdown, 3> kWhat = {
            stack::Shutdown::kRead, stack::Shutdown::kWrite, stack::Shutdown::kBoth};
        auto r = stack_.shutdown(fd, kWhat[c.arg % 3]);
        log_call([&] {
          return "shutdown(" + fd_text + ", " + kHow[c.arg % 3] + ") = " + result_text(r, 0);
        });
        break;
      }
      case Call::Op::kClose: {
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        auto r = stack_.close(fd);
        log_call([&] { return "close(" + fd_text + ") = " + result_text(r, 0); });
        break;
      }
      case Call::Op::kConnectAgain: {
        // RFC 9293 3.10.1: OPEN where a connection exists is "error: connection already exists"
        // (EALREADY while it synchronizes, EISCONN after); a socket whose connection failed
        // may connect again.
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        connect(fd, c.arg);
        break;
      }
      case Call::Op::kSetsockopt:
      case Call::Op::kSetsockoptMore: {
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        const SockoptChoice choice = setsockopt_choice(c);
        const IntOption& o = kOptions[choice.option];
        auto r = stack_.setsockopt(fd, o.option, choice.value);
        log_call([&] {
          return "setsockopt(" + fd_text + ", " + o.level + ", " + kSockoptNames[choice.option] +
                 ", [" + std::to_string(choice.value) + "], 4) = " + result_text(r, 0);
        });
        break;
      }
      case Call::Op::kGetsockopt:
      case Call::Op::kGetsockoptMore:
      case Call::Op::kPoll:
      case Call::Op::kIoctl: {
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        observe(c, fd, fd_text);
        break;
      }
      default: {  // kAbort
        const int fd = socket_in(c.slot);
        if (fd < 0) return;
        auto l = stack_.setsockopt_linger(fd, true, 0);
        log_call([&] {
          return "setsockopt(" + fd_text +
                 ", SOL_SOCKET, SO_LINGER, {l_onoff=1, l_linger=0}, 8) = " + result_text(l, 0);
        });
        auto r = stack_.close(fd);
        log_call([&] { return "close(" + fd_text + ") = " + result_text(r, 0); });
      }
    }
    drain();
  }

  SessionLog* log_;
  // Reused from segment to segment, so their buffers are allocated once per run: the inbound
  // segment being built, its bytes, the last segment parsed (either way), and the stack's
  // output list.
  wire::TcpPacket in_;
  wire::Bytes in_bytes_;
  wire::TcpPacket parsed_;
  std::vector<stack::Packet> output_;  // what the stack sent since the last drain
  stack::Stack stack_;
  oracle::Oracle oracle_;
  std::string finding_;
  RunStats stats_;
  std::int64_t now_ = 0;
  std::array<Flow, kFlows> flows_{};
  std::vector<int> sockets_;
  std::uint16_t bound_port_ = kListenPort;
  std::size_t written_ = 0;
};

}  // namespace

std::vector<std::string> knob_lines(const Config& c) {
  std::vector<std::string> out;
  if (!c.timestamps) out.emplace_back("--tcp_timestamps=0");
  if (!c.sack) out.emplace_back("--tcp_sack=0");
  if (c.syncookies != 1) out.push_back("--tcp_syncookies=" + std::to_string(c.syncookies));
  if (c.abort_on_overflow) out.emplace_back("--tcp_abort_on_overflow=1");
  if (!c.slow_start_after_idle) out.emplace_back("--tcp_slow_start_after_idle=0");
  if (c.retries2 != 15) out.push_back("--tcp_retries2=" + std::to_string(c.retries2));
  if (c.keepalive != 0) out.push_back("--tcp_keepalive_time=" + std::to_string(c.keepalive));
  return out;
}

std::string run(const Trace& trace, SessionLog* log, RunStats* stats) {
  Session s(trace.config, log);
  for (const Op& op : trace.ops) {
    s.step(op);
    if (!s.finding().empty()) break;
  }
  s.finish();
  if (log != nullptr) log->finding = s.finding();
  if (stats != nullptr) *stats = s.stats();
  return s.finding();
}

}  // namespace synack::fuzz::session
