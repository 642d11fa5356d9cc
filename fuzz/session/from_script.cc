#include "fuzz/session/from_script.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <set>

namespace synack::fuzz::session {
namespace {

// The leading decimal number of `text` (0 when there is none): knob values and htons(N).
int to_int(const std::string& text) {
  int v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

using script::Arg;
using script::Line;
using script::PacketLine;
using script::SyscallLine;
using script::TimeSpec;

class Converter {
 public:
  Conversion convert(const script::Script& s) {
    for (const script::OptionSetting& o : s.options) knob(o.name, o.value);
    for (const Line& l : s.lines) line(l);
    return std::move(out_);
  }

 private:
  void knob(const std::string& name, const std::string& value) {
    Config& c = out_.trace.config;
    const bool on = value != "0";
    if (name == "tcp_timestamps") {
      c.timestamps = on;
    } else if (name == "tcp_sack") {
      c.sack = on;
    } else if (name == "tcp_syncookies") {
      c.syncookies = static_cast<std::uint8_t>(std::clamp(to_int(value), 0, 2));
    } else if (name == "tcp_abort_on_overflow") {
      c.abort_on_overflow = on;
    } else if (name == "tcp_slow_start_after_idle") {
      c.slow_start_after_idle = on;
    } else if (name == "tcp_retries2") {
      c.retries2 = static_cast<std::uint8_t>(std::clamp(to_int(value), 1, 15));
    } else if (name == "tcp_keepalive_time") {
      c.keepalive = static_cast<std::uint8_t>(std::clamp(to_int(value), 1, 120));
    }
  }

  void emit(const Op& op) {
    if (out_.trace.ops.size() < kMaxOps) out_.trace.ops.push_back(op);
  }

  // Moves the trace's clock exactly to `t`: whole 1.024 ms steps, then the rest (< 1.024 ms).
  void advance_to(std::int64_t t) {
    if (t <= now_) return;
    const std::int64_t gap = t - now_;
    if (gap >= 1024) {
      const std::int64_t units = std::min<std::int64_t>(gap / 1024, 0xffffffff);
      emit(Advance{Advance::Kind::kHuge, static_cast<std::uint32_t>(units)});
      now_ += units * 1024;
    }
    if (t > now_) {
      emit(Advance{Advance::Kind::kTiny, static_cast<std::uint32_t>(t - now_)});
      now_ = t;
    }
  }

  std::int64_t resolve(std::int64_t v, bool relative) const { return relative ? prev_ + v : v; }

  void line(const Line& l) {
    const TimeSpec& ts = l.time;
    std::int64_t at = prev_;
    if (ts.kind != TimeSpec::Kind::kAny) {
      at = resolve(ts.start_us, ts.kind == TimeSpec::Kind::kRelative);
    }
    std::int64_t done = at;
    if (ts.blocking_end_us) done = resolve(*ts.blocking_end_us, ts.blocking_end_relative);
    prev_ = std::max(prev_, done);
    if (const auto* p = std::get_if<PacketLine>(&l.event)) {
      if (p->direction == script::Direction::kInbound) {
        advance_to(at);
        inbound(*p);
      } else {
        advance_to(at);  // the stack's segment comes on its own; the time is what matters
        ++out_.lines_used;
      }
    } else if (const auto* c = std::get_if<SyscallLine>(&l.event)) {
      advance_to(done);  // a blocking call: the non-blocking trace makes it when it returned
      syscall(*c);
    } else if (const auto* m = std::get_if<script::IcmpLine>(&l.event)) {
      advance_to(at);
      icmp(*m);
    } else if (std::holds_alternative<script::SilenceLine>(l.event)) {
      advance_to(at);
      ++out_.lines_used;
    } else {
      ++out_.lines_left_out;  // assertions, ICMP
    }
  }

  std::optional<std::uint8_t> flow_of(std::uint16_t port) {
    auto it = flows_.find(port);
    if (it != flows_.end()) return it->second;
    if (flows_.size() >= static_cast<std::size_t>(kFlows)) return std::nullopt;
    const auto index = static_cast<std::uint8_t>(flows_.size());
    flows_[port] = index;
    return index;
  }

  void inbound(const PacketLine& p) {
    const std::uint16_t port = p.attributes.sport.value_or(default_port_);
    const auto flow = flow_of(port);
    if (!flow) {
      ++out_.lines_left_out;
      return;
    }
    Segment s;
    s.flow = *flow;
    s.flags = p.flags;
    s.seq_anchor = SeqAnchor::kPeerIss;
    s.seq_offset = static_cast<std::int32_t>(p.seq_start);
    s.ack_anchor = AckAnchor::kStackIss;
    s.ack_offset = static_cast<std::int32_t>(p.ack.value_or(0));
    s.window = static_cast<std::uint16_t>(p.window.value_or(65535));
    s.payload_length =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(p.payload_length, kMaxPayload));
    s.urgent_pointer = static_cast<std::uint16_t>(p.urgent_pointer.value_or(0));
    s.bad_checksum = p.attributes.bad_checksum;
    std::uint32_t& tsval = tsval_[s.flow];
    for (const script::OptionSpec& o : p.options) {
      using K = script::OptionSpec::Kind;
      switch (o.kind) {
        case K::kMss:
          s.options |= opt::kMss;
          s.mss = static_cast<std::uint16_t>(o.value);
          break;
        case K::kWscale:
          s.options |= opt::kWscale;
          s.wscale = static_cast<std::uint8_t>(o.value);
          break;
        case K::kSackOk:
          s.options |= opt::kSackOk;
          break;
        case K::kTimestamp:
          s.options |= opt::kTimestamps;
          s.tsval_step = static_cast<std::int16_t>(static_cast<std::int32_t>(o.ts_val - tsval));
          tsval = o.ts_val;
          break;
        default:
          break;  // nop, eol, SACK blocks, raw bytes: left out
      }
    }
    emit(s);
    ++out_.lines_used;
  }

  void icmp(const script::IcmpLine& m) {
    const auto kind =
        std::find_if(kIcmpTypeCodes.begin(), kIcmpTypeCodes.end(),
                     [&](const IcmpTypeCode& k) { return k.type == m.type && k.code == m.code; });
    const auto flow = flow_of(m.attributes.sport.value_or(default_port_));
    if (kind == kIcmpTypeCodes.end() || !flow) {
      ++out_.lines_left_out;
      return;
    }
    Icmp op;
    op.flow = *flow;
    op.kind = static_cast<Icmp::Kind>(kind - kIcmpTypeCodes.begin());
    op.anchor = AckAnchor::kStackIss;
    op.offset = static_cast<std::int32_t>(m.seq_start);
    op.quoted_length =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(m.payload_length, kMaxPayload));
    op.mtu = m.mtu.value_or(0);
    emit(op);
    ++out_.lines_used;
  }

  std::optional<std::int64_t> number(const SyscallLine& c, std::size_t i) const {
    if (c.args.size() <= i) return std::nullopt;
    const Arg& a = c.args[i];
    if (a.kind == Arg::Kind::kNumber) return a.number;
    if (a.kind == Arg::Kind::kArray && !a.elements.empty() &&
        a.elements[0].kind == Arg::Kind::kNumber) {
      return a.elements[0].number;
    }
    return std::nullopt;
  }

  std::string symbol(const SyscallLine& c, std::size_t i) const {
    if (c.args.size() <= i || c.args[i].symbols.empty()) return "";
    return c.args[i].symbols[0];
  }

  std::uint16_t port_arg(const SyscallLine& c) const {
    if (c.args.size() < 2 || c.args[1].kind != Arg::Kind::kStruct) return 8080;
    for (const script::Field& f : c.args[1].fields) {
      if (f.name != "sin_port") continue;
      if (f.value.kind == Arg::Kind::kNumber) return static_cast<std::uint16_t>(f.value.number);
      if (!f.value.symbols.empty() && f.value.symbols[0].starts_with("htons(")) {
        return static_cast<std::uint16_t>(to_int(f.value.symbols[0].substr(6)));
      }
    }
    return 8080;
  }

  std::optional<std::uint8_t> slot(const SyscallLine& c) const {
    const auto fd = number(c, 0);
    if (!fd) return std::nullopt;
    auto it = slots_.find(static_cast<int>(*fd));
    if (it == slots_.end()) return std::nullopt;
    return it->second;
  }

  void new_slot(int fd) {
    if (next_slot_ < kMaxSockets) slots_[fd] = static_cast<std::uint8_t>(next_slot_++);
  }

  void call(const Call& c) {
    emit(c);
    ++out_.lines_used;
  }
  void call(Call::Op op, std::uint8_t s, std::uint32_t arg) { call(Call{op, s, arg}); }

  void apply_pending(int fd) {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    for (const auto& [which, raw] : it->second) emit(setsockopt_call(slots_.at(fd), which, raw));
    pending_.erase(it);
  }

  void syscall(const SyscallLine& c) {
    const std::string& n = c.name;
    const auto fd = number(c, 0);
    if (n == "socket") {
      ++out_.lines_used;  // made by the listen or connect that follows
      return;
    }
    if (n == "listen" && fd) {
      new_slot(static_cast<int>(*fd));
      call(
          Call::Op::kListen, 0,
          static_cast<std::uint32_t>(std::clamp<std::int64_t>(number(c, 1).value_or(1) - 1, 0, 7)));
      apply_pending(static_cast<int>(*fd));
      return;
    }
    if (n == "connect" && fd && !slots_.contains(static_cast<int>(*fd))) {
      const std::uint16_t port = port_arg(c);
      default_port_ = port;
      const auto flow = flow_of(port);
      if (!flow) {
        ++out_.lines_left_out;
        return;
      }
      new_slot(static_cast<int>(*fd));
      call(Call::Op::kConnect, 0, *flow);
      apply_pending(static_cast<int>(*fd));
      return;
    }
    if (n == "setsockopt" && fd) {
      const std::string name = symbol(c, 2);
      if (name == "SO_LINGER") {
        linger_zero_.insert(static_cast<int>(*fd));
        ++out_.lines_used;
        return;
      }
      const auto it = std::find(kSockoptNames.begin(), kSockoptNames.end(), name);
      const auto value = number(c, 3);
      if (it == kSockoptNames.end() || !value) {
        ++out_.lines_left_out;
        return;
      }
      const auto which = static_cast<std::size_t>(it - kSockoptNames.begin());
      const auto raw = sockopt_raw(which, static_cast<int>(*value));
      if (!raw) {
        ++out_.lines_left_out;
        return;
      }
      if (auto s = slot(c)) {
        call(setsockopt_call(*s, which, *raw));
      } else {
        pending_[static_cast<int>(*fd)].emplace_back(which, *raw);  // before listen/connect
        ++out_.lines_used;
      }
      return;
    }
    const auto s = slot(c);
    if (!s) {
      ++out_.lines_left_out;
      return;
    }
    if (n == "connect") {  // on a socket that has a slot: listening or connected
      const auto flow = flow_of(port_arg(c));
      if (flow) {
        call(Call::Op::kConnectAgain, *s, *flow);
      } else {
        ++out_.lines_left_out;
      }
    } else if (n == "accept") {
      call(Call::Op::kAccept, *s, 0);
      if (c.result && *c.result >= 0) new_slot(static_cast<int>(*c.result));
    } else if (n == "read" || n == "recv") {
      call(Call::Op::kRead, *s,
           static_cast<std::uint32_t>(std::max<std::int64_t>(number(c, 2).value_or(1), 1) - 1));
    } else if (n == "write" || n == "send") {
      std::int64_t left = number(c, 2).value_or(0);
      while (left > 0) {  // the trace writes at most 20000 bytes a call
        const std::int64_t now = std::min<std::int64_t>(left, 20000);
        call(Call::Op::kWrite, *s, static_cast<std::uint32_t>(now - 1));
        left -= now;
      }
    } else if (n == "shutdown") {
      const std::string how = symbol(c, 1);
      call(Call::Op::kShutdown, *s, how == "SHUT_RD" ? 0 : how == "SHUT_WR" ? 1 : 2);
    } else if (n == "close") {
      const bool abort = linger_zero_.erase(static_cast<int>(*fd)) != 0;
      call(abort ? Call::Op::kAbort : Call::Op::kClose, *s, 0);
    } else if (n == "getsockopt") {
      const std::string name = symbol(c, 2);
      const auto it = std::find(kSockoptNames.begin(), kSockoptNames.end(), name);
      if (it != kSockoptNames.end()) {
        call(getsockopt_call(*s, static_cast<std::size_t>(it - kSockoptNames.begin())));
      } else {
        ++out_.lines_left_out;
      }
    } else if (n == "ioctl") {
      const std::string req = symbol(c, 1);
      call(Call::Op::kIoctl, *s, req == "SIOCINQ" || req == "FIONREAD" ? 0 : 1);
    } else {
      ++out_.lines_left_out;  // fcntl, poll, getsockopt, ioctl: observation only
    }
  }

  Conversion out_;
  std::int64_t now_ = 0;   // the trace's clock
  std::int64_t prev_ = 0;  // the script's, for relative times
  std::uint16_t default_port_ = kFirstPeerPort;
  std::map<std::uint16_t, std::uint8_t> flows_;
  std::array<std::uint32_t, kFlows> tsval_{1, 1, 1, 1};
  std::map<int, std::uint8_t> slots_;
  std::size_t next_slot_ = 0;
  std::map<int, std::vector<std::pair<std::size_t, std::uint32_t>>> pending_;
  std::set<int> linger_zero_;
};

}  // namespace

Conversion trace_from_script(const script::Script& s) { return Converter().convert(s); }

}  // namespace synack::fuzz::session
