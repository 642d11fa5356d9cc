#include "harness/script/runner.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "harness/script/patterns.h"
#include "harness/wire/format.h"
#include "harness/wire/icmp.h"
#include "harness/wire/tcp.h"

namespace synack::script {
namespace {

using target::SockCall;
using target::SockResult;
using wire::Seq;
using wire::TcpPacket;

// Stops the case; carries the message. Never escapes run_script.
struct Stop {
  CaseResult::Verdict verdict;
  std::string message;
};

// Every errno name Linux has (glibc's strerrorname_np), with the aliases scripts may use: a
// script checks whatever error the target returns, ICMP-born ones (EPROTO, EHOSTDOWN, ENONET)
// included.
const std::map<std::string, int>& errno_numbers() {
  static const std::map<std::string, int> kErrnos = [] {
    std::map<std::string, int> m = {
        {"EWOULDBLOCK", EWOULDBLOCK}, {"ENOTSUP", ENOTSUP}, {"EDEADLOCK", EDEADLOCK}};
    for (int e = 1; e < 4096; ++e) {
      if (const char* name = strerrorname_np(e)) m.emplace(name, e);
    }
    return m;
  }();
  return kErrnos;
}

std::string errno_name(int e) {
  const char* name = strerrorname_np(e);
  return name != nullptr ? name : "errno " + std::to_string(e);
}

// Linux TCP_* state numbers, for %{ assert tcpi_state == TCP_ESTABLISHED }%.
const std::map<std::string, std::int64_t>& tcp_state_numbers() {
  static const std::map<std::string, std::int64_t> kStates = {
      {"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2},  {"TCP_SYN_RECV", 3}, {"TCP_FIN_WAIT1", 4},
      {"TCP_FIN_WAIT2", 5},   {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7},    {"TCP_CLOSE_WAIT", 8},
      {"TCP_LAST_ACK", 9},    {"TCP_LISTEN", 10},   {"TCP_CLOSING", 11}};
  return kStates;
}

const std::map<std::string, unsigned>& poll_bits() {
  static const std::map<std::string, unsigned> kBits = {
      {"POLLIN", 0x001},  {"POLLPRI", 0x002},  {"POLLOUT", 0x004},    {"POLLERR", 0x008},
      {"POLLHUP", 0x010}, {"POLLNVAL", 0x020}, {"POLLRDNORM", 0x040}, {"POLLRDHUP", 0x2000}};
  return kBits;
}

std::string seconds(std::int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(us) / 1e6);
  return buf;
}

class Run {
 public:
  Run(const Script& s, target::Target& t, RunOptions o, Observer* obs)
      : script_(s), target_(t), opt_(std::move(o)), observer_(obs) {}

  CaseResult go() {
    CaseResult result;
    try {
      apply_options();
      t0_ = target_.now_us();
      for (const Line& line : script_.lines) step(line);
      finish_parked();
      // Anything the target sent at the very end is unexpected.
      if (auto extra = target_.next_packet(target_.now_us())) {
        record(false, *extra);
        throw Stop{CaseResult::Verdict::kFail, "at the end of the script: unexpected segment at " +
                                                   seconds(extra->time_us - t0_) + ": " +
                                                   describe(extra->packet, true)};
      }
      if (observer_ != nullptr) {
        observer_->finish(target_.now_us() - t0_);
        check_observer(nullptr);
      }
    } catch (const Stop& s) {
      result.verdict = s.verdict;
      result.message = s.message;
    }
    result.link = std::move(link_);
    result.isn_lines = std::move(isn_lines_);
    result.duration_us = target_.now_us() - t0_;
    return result;
  }

 private:
  [[noreturn]] void fail(const Line& l, const std::string& what) const {
    throw Stop{CaseResult::Verdict::kFail,
               l.location.to_string() + ": " + what + "\n  script:   " + trim(l.text)};
  }
  [[noreturn]] void script_error(const Location& at, const std::string& what) const {
    throw Stop{CaseResult::Verdict::kError, at.to_string() + ": error: " + what};
  }
  static std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }

  void apply_options() {
    for (const OptionSetting& o : script_.options) {
      auto number = [&]() -> double {
        char* end = nullptr;
        const double v = std::strtod(o.value.c_str(), &end);
        if (o.value.empty() || end != o.value.c_str() + o.value.size()) {
          script_error(o.location, "--" + o.name + " needs a number, not '" + o.value + "'");
        }
        return v;
      };
      if (o.name == "tolerance_usecs") {
        opt_.tolerance_us = static_cast<std::int64_t>(number());
      } else if (o.name == "tolerance_percent") {
        opt_.tolerance_percent = number();
      } else if (o.name == "tcp_ts_tick_usecs") {
        opt_.ts_tick_us = static_cast<std::int64_t>(number());
      } else if (o.name == "harness_isn") {
        opt_.harness_isn = static_cast<std::uint32_t>(number());
      } else {
        switch (target_.set_option(o.name, o.value)) {
          case target::OptionStatus::kApplied:
            break;
          case target::OptionStatus::kBadValue:
            script_error(o.location, "--" + o.name + "=" + o.value + ": bad value for target " +
                                         target_.name());
          case target::OptionStatus::kUnsupported:
            script_error(o.location,
                         "--" + o.name + " is not supported by target " + target_.name());
        }
      }
    }
  }

  // --- time

  std::int64_t tolerance(std::int64_t gap) const {
    return std::max(
        opt_.tolerance_us,
        static_cast<std::int64_t>(std::llround(static_cast<double>(std::max<std::int64_t>(gap, 0)) *
                                               opt_.tolerance_percent / 100.0)));
  }
  std::int64_t script_now() const { return target_.now_us() - t0_; }
  std::int64_t resolve(std::int64_t value, bool relative) const {
    return relative ? prev_ + value : value;
  }

  // Lets time pass until script time `until`; the target must send nothing meanwhile.
  void quiet_until(const Line& l, std::int64_t until, const char* why) {
    for (;;) {
      auto p = target_.next_packet(t0_ + until);
      if (!p) break;
      record(false, *p);
      fail(l, std::string("unexpected segment at ") + seconds(p->time_us - t0_) + " " + why + ": " +
                  describe(p->packet, true));
    }
    retry_parked(l);
  }

  // --- link

  void record(bool to_target, const target::Captured& c) {
    LinkEvent e{to_target, c.time_us - t0_, c.packet};
    if (opt_.trace) {
      opt_.trace(seconds(e.time_us) + (to_target ? " < " : " > ") + describe(c.packet, !to_target));
    }
    if (observer_ != nullptr) observer_->on_segment(e);
    link_.push_back(std::move(e));
  }

  void check_observer(const Line* l) {
    if (observer_ == nullptr) return;
    const std::string v = observer_->violation();
    if (v.empty()) return;
    if (l != nullptr) fail(*l, "oracle: " + v);
    throw Stop{CaseResult::Verdict::kFail, "oracle: " + v};
  }

  // --- flows

  // What the runner knows about one flow: the connection (or its successive incarnations)
  // between the target and one harness port.
  struct Flow {
    std::optional<std::uint32_t> target_isn;    // learned from the target's SYN or SYN,ACK
    std::optional<std::uint32_t> previous_isn;  // the one before, when the flow was re-opened
    std::optional<std::uint16_t> target_port;   // on an active open, learned from the SYN
    bool learn_target_port = false;             // connect(): the target's port is ephemeral
    bool isn_fresh = true;              // the next target SYN starts a connection: learn its ISN
    bool target_sent_syn_last = false;  // the target's last segment here was a SYN or SYN,ACK
    std::optional<std::uint32_t> last_tsval;  // the target's, for inbound TS ecr
    std::optional<std::pair<std::uint32_t, std::uint32_t>> ts_base;  // (target's, script's)
  };

  // Lines without [sport N] belong to the default flow: 40000, or the port of the last connect().
  std::uint16_t default_port() const { return harness_port_.value_or(opt_.harness_port); }
  std::uint16_t flow_port(const Attributes& a) const { return a.sport.value_or(default_port()); }
  Flow& flow(std::uint16_t port) { return flows_[port]; }
  const Flow* find_flow(std::uint16_t port) const {
    auto it = flows_.find(port);
    return it == flows_.end() ? nullptr : &it->second;
  }
  std::uint32_t target_isn(std::uint16_t port) const {
    const Flow* f = find_flow(port);
    return f != nullptr ? f->target_isn.value_or(0) : 0;
  }
  // The target's port on a flow: learned on an active open, else the bound (listening) port.
  std::uint16_t target_port(std::uint16_t port) const {
    const Flow* f = find_flow(port);
    if (f != nullptr && f->target_port) return *f->target_port;
    return bound_port_.value_or(opt_.target_port);
  }
  // "40001", or "40001 (fd 4)" when an fd's connection is on it.
  std::string flow_name(std::uint16_t port) const {
    std::string s = std::to_string(port);
    for (const auto& [fd, p] : fd_flows_) {
      if (p == port) s += " (fd " + std::to_string(fd) + ")";
    }
    return s;
  }

  // tcpdump-style, with sequence numbers relative to each side's ISN on the segment's flow, as
  // the script writes them.
  std::string describe(const target::Bytes& bytes, bool from_target) const {
    auto p = wire::parse_tcp_packet(bytes);
    if (!p) return wire::format_ipv4(bytes);
    return wire::format_tcp(relativize(*p, from_target));
  }
  TcpPacket relativize(TcpPacket p, bool from_target) const {
    const std::uint32_t isn = target_isn(from_target ? p.tcp.dst_port : p.tcp.src_port);
    const std::uint32_t own = from_target ? isn : opt_.harness_isn;
    const std::uint32_t other = from_target ? opt_.harness_isn : isn;
    p.tcp.seq = Seq(p.tcp.seq.raw() - own);
    if (p.tcp.has(wire::tcp_flags::kAck)) p.tcp.ack = Seq(p.tcp.ack.raw() - other);
    for (auto& o : p.tcp.options) {
      if (auto* sack = std::get_if<wire::OptSack>(&o)) {
        for (auto& b : sack->blocks) b = {Seq(b.left.raw() - other), Seq(b.right.raw() - other)};
      }
    }
    return p;
  }

  // The IPv4 header of an injected packet: from the harness to the target, DF, unless the
  // line's attributes say otherwise.
  void inbound_ip(wire::Ipv4Header& ip, const Attributes& a) const {
    ip.src = wire::Ipv4Addr{a.src.value_or(target_.harness_addr())};
    ip.dst = wire::Ipv4Addr{a.dst.value_or(target_.target_addr())};
    ip.flags = wire::kIpFlagDontFragment;
    if (a.tos) ip.tos = *a.tos;
    if (a.ttl) ip.ttl = *a.ttl;
    ip.options = a.ip_options;  // the emitter pads them with EOL to a word and sets the IHL
  }

  static bool has_raw_option(const PacketLine& pl) {
    return std::any_of(pl.options.begin(), pl.options.end(),
                       [](const OptionSpec& o) { return o.kind == OptionSpec::Kind::kRaw; });
  }
  // The option space a line describes, byte for byte (unpadded); raw options verbatim.
  wire::Bytes option_bytes(const PacketLine& pl, bool inbound, const Flow& f) const {
    wire::Bytes out;
    for (const OptionSpec& o : pl.options) {
      if (o.kind == OptionSpec::Kind::kRaw) {
        out.insert(out.end(), o.raw.begin(), o.raw.end());
      } else {
        wire::emit_option(to_wire(o, inbound, f), out);
      }
    }
    return out;
  }

  void inject(const Line& l, const PacketLine& pl) {
    const std::uint16_t port = flow_port(pl.attributes);
    Flow& f = flow(port);
    // A reset, or a SYN while the target is not itself in a handshake on this flow (its last
    // segment was not a SYN: so not a retransmitted SYN, nor a simultaneous open), starts a new
    // connection, for which the target chooses a new ISN.
    const bool syn_only =
        (pl.flags & (wire::tcp_flags::kSyn | wire::tcp_flags::kAck)) == wire::tcp_flags::kSyn;
    if ((pl.flags & wire::tcp_flags::kRst) != 0 || (syn_only && !f.target_sent_syn_last)) {
      f.isn_fresh = true;
    }
    TcpPacket p;
    inbound_ip(p.ip, pl.attributes);
    p.tcp.src_port = port;
    p.tcp.dst_port = target_port(port);
    p.tcp.seq = Seq(opt_.harness_isn + pl.seq_start);
    p.tcp.flags = pl.flags;
    if (pl.ack) p.tcp.ack = Seq(f.target_isn.value_or(0) + *pl.ack);
    p.tcp.window = static_cast<std::uint16_t>(*pl.window);
    p.tcp.urgent_pointer = static_cast<std::uint16_t>(pl.urgent_pointer.value_or(0));
    if (has_raw_option(pl)) {
      // Raw bytes may not parse as options at all (MUST-7 cases): the whole option space goes
      // out verbatim, zero-filled (EOL) to a multiple of 4 by the emitter.
      p.tcp.option_padding = option_bytes(pl, /*inbound=*/true, f);
    } else {
      for (const OptionSpec& o : pl.options) {
        p.tcp.options.push_back(to_wire(o, /*inbound=*/true, f));
      }
    }
    p.payload.resize(pl.payload_length);
    for (std::uint32_t i = 0; i < pl.payload_length; ++i) {
      p.payload[i] = pattern_byte(pl.seq_start + i);
    }
    if (pl.attributes.bad_checksum) {
      p.tcp.checksum = static_cast<std::uint16_t>(wire::correct_tcp_checksum(p) ^ 0xffff);
    }
    send(l, wire::emit(p));
  }

  // An ICMP error about a segment the target sent on the line's flow (RFC 792: it quotes the
  // datagram's IP header and the first 8 bytes of its TCP header: ports and sequence number).
  void inject_icmp(const Line& l, const IcmpLine& m) {
    const std::uint16_t port = flow_port(m.attributes);
    wire::Ipv4Header original;  // as the target sends its segments
    original.flags = wire::kIpFlagDontFragment;
    original.protocol = wire::kIpProtoTcp;
    original.src = wire::Ipv4Addr{target_.target_addr()};
    original.dst = wire::Ipv4Addr{target_.harness_addr()};
    wire::Bytes tcp_start;
    wire::append_be16(tcp_start, target_port(port));
    wire::append_be16(tcp_start, port);
    wire::append_be32(tcp_start, target_isn(port) + m.seq_start);
    wire::IcmpPacket p;
    inbound_ip(p.ip, m.attributes);
    p.icmp.type = m.type;
    p.icmp.code = m.code;
    p.icmp.rest = m.mtu.value_or(0);  // RFC 1191 4: the next-hop MTU in the low 16 bits
    // The quoted datagram's length: a 20-byte TCP header and the segment's data.
    p.icmp.body = wire::icmp_quote(original, wire::kTcpMinHeader + m.payload_length, tcp_start);
    send(l, wire::emit(p));
  }

  void send(const Line& l, const wire::Bytes& bytes) {
    const std::int64_t now = target_.now_us();
    target_.inject(bytes);
    record(true, {bytes, now});
    check_observer(&l);
  }

  wire::TcpOption to_wire(const OptionSpec& o, bool inbound, const Flow& f) const {
    using K = OptionSpec::Kind;
    const std::uint32_t sack_base = inbound ? f.target_isn.value_or(0) : opt_.harness_isn;
    switch (o.kind) {
      case K::kNop:
        return wire::OptNop{};
      case K::kEol:
        return wire::OptEol{};
      case K::kMss:
        return wire::OptMss{static_cast<std::uint16_t>(o.value)};
      case K::kWscale:
        return wire::OptWindowScale{static_cast<std::uint8_t>(o.value)};
      case K::kSackOk:
        return wire::OptSackPermitted{};
      case K::kSack: {
        wire::OptSack s;
        for (const auto& [l, r] : o.sack_blocks) {
          s.blocks.push_back({Seq(sack_base + l), Seq(sack_base + r)});
        }
        return s;
      }
      case K::kTimestamp:
        // Inbound: TS ecr echoes the last TSval the target sent (the script cannot know it).
        if (inbound && f.last_tsval) return wire::OptTimestamps{o.ts_val, *f.last_tsval};
        return wire::OptTimestamps{o.ts_val, o.ts_ecr};
      case K::kRaw:
        break;  // bytes, not an option: see option_bytes()
    }
    return wire::OptNop{};
  }

  void expect_outbound(const Line& l, const PacketLine& pl) {
    // The window in which the segment may arrive.
    std::int64_t lo = 0;
    std::int64_t hi = 0;
    if (l.time.kind == TimeSpec::Kind::kAny) {
      lo = prev_;
      hi = prev_ + opt_.wildcard_wait_us;
    } else {
      const std::int64_t t = resolve(l.time.start_us, l.time.kind == TimeSpec::Kind::kRelative);
      const std::int64_t end =
          l.time.range_end_us ? resolve(*l.time.range_end_us, l.time.range_end_relative) : t;
      const std::int64_t tol = tolerance(end - prev_);
      lo = t - tol;
      hi = end + tol;
    }
    auto got = target_.next_packet(t0_ + hi);
    if (!got) {
      // Say by how much it missed: wait a little longer (as long as the window again, 1 to
      // 10 s) for the next segment, so a late one shows as late rather than missing.
      const std::int64_t more = std::clamp<std::int64_t>(hi - prev_, 1'000'000, 10'000'000);
      std::string what = "expected segment did not arrive by " + seconds(hi) + " (script time)";
      if (auto late = target_.next_packet(t0_ + hi + more)) {
        record(false, *late);
        const std::int64_t late_at = late->time_us - t0_;
        what += "; the next segment came " + seconds(late_at - hi) + " s later than that, at " +
                seconds(late_at) + ": " + describe(late->packet, true);
      } else {
        what += ", nor in the " + seconds(more) + " s after";
      }
      fail(l, what);
    }
    const std::int64_t at = got->time_us - t0_;
    auto parsed = wire::parse_tcp_packet(got->packet);
    if (!parsed) {
      record(false, *got);
      fail(l, "the target sent a packet that does not parse: " + parsed.error().message());
    }
    TcpPacket& p = *parsed;
    // The segment must be on the line's flow (its harness port).
    const std::uint16_t port = flow_port(pl.attributes);
    if (p.tcp.dst_port != port) {
      record(false, *got);
      fail(l, "the target sent a segment on flow " + flow_name(p.tcp.dst_port) +
                  " where the script expects one on flow " + flow_name(port) + ": " +
                  describe(got->packet, true));
    }
    Flow& f = flow(port);
    // Learn the target's ISN from the first SYN of each connection on the flow, and its port on
    // an active open. Later SYNs of the same connection (retransmissions) are compared against
    // it; a re-opened flow keeps the ISN before for isn_advance().
    if (p.tcp.has(wire::tcp_flags::kSyn) && (pl.flags & wire::tcp_flags::kSyn) != 0 &&
        (f.isn_fresh || !f.target_isn)) {
      const std::uint32_t isn = p.tcp.seq.raw() - pl.seq_start;
      if (f.target_isn && *f.target_isn != isn) f.previous_isn = f.target_isn;
      f.target_isn = isn;
      f.isn_fresh = false;
      isn_lines_.push_back(l.location.line);
    }
    if (p.tcp.has(wire::tcp_flags::kRst)) f.isn_fresh = true;
    f.target_sent_syn_last = p.tcp.has(wire::tcp_flags::kSyn);
    if (f.learn_target_port && !f.target_port) f.target_port = p.tcp.src_port;
    if (const auto* ts = p.tcp.find<wire::OptTimestamps>()) f.last_tsval = ts->val;
    record(false, *got);
    compare(l, pl, p, f);
    if (at < lo) {
      fail(l, "segment arrived " + seconds(lo - at) + " s too early (at " + seconds(at) +
                  ", expected from " + seconds(lo) + "): " + describe(got->packet, true));
    }
    prev_ = at;
    check_observer(&l);
  }

  // "P?." for a line whose PSH is optional: format_flags with a '?' after each optional letter.
  static std::string expected_flags(const PacketLine& pl) {
    const std::string all =
        wire::format_flags(static_cast<std::uint8_t>(pl.flags | pl.optional_flags));
    std::string out;
    for (const char ch : all) {
      out += ch;
      const std::uint8_t bit = ch == 'P'   ? 0x08
                               : ch == 'U' ? 0x20
                               : ch == 'E' ? 0x40
                               : ch == 'W' ? 0x80
                                           : 0;
      if ((pl.optional_flags & bit) != 0) out += '?';
    }
    return out;
  }

  void compare(const Line& l, const PacketLine& pl, const TcpPacket& actual, Flow& f) {
    std::vector<std::string> diffs;
    auto diff = [&](const std::string& field, const std::string& e, const std::string& a) {
      if (e != a) diffs.push_back(field + " (expected " + e + ", actual " + a + ")");
    };
    const TcpPacket rel = relativize(actual, true);
    if (((pl.flags ^ actual.tcp.flags) & ~pl.optional_flags & 0xffU) != 0) {
      diffs.push_back("flags (expected " + expected_flags(pl) + ", actual " +
                      wire::format_flags(actual.tcp.flags) + ")");
    }
    diff("seq", std::to_string(pl.seq_start), std::to_string(rel.tcp.seq.raw()));
    diff("length", std::to_string(pl.payload_length), std::to_string(actual.payload.size()));
    if (pl.ack && actual.tcp.has(wire::tcp_flags::kAck)) {
      diff("ack", std::to_string(*pl.ack), std::to_string(rel.tcp.ack.raw()));
    }
    if (pl.window) diff("win", std::to_string(*pl.window), std::to_string(actual.tcp.window));
    if (pl.urgent_pointer) {
      diff("urg", std::to_string(*pl.urgent_pointer), std::to_string(actual.tcp.urgent_pointer));
    }
    // With raw options the expected option space is bytes: compared as the options they parse
    // to (so byte for byte, up to trailing EOL padding), or as bytes when they do not parse.
    std::optional<wire::Bytes> raw_want;
    std::vector<wire::TcpOption> want;
    if (!pl.options_any && has_raw_option(pl)) {
      wire::Bytes bytes = option_bytes(pl, /*inbound=*/false, f);
      auto parsed = wire::parse_tcp_options(bytes, 0, nullptr);
      if (parsed) {
        want = std::move(*parsed);
      } else {
        raw_want = std::move(bytes);
      }
    } else if (!pl.options_any) {
      for (const OptionSpec& o : pl.options) want.push_back(to_wire(o, false, f));
    }
    if (raw_want) {
      wire::Bytes have;
      for (const auto& o : actual.tcp.options) wire::emit_option(o, have);
      have.insert(have.end(), actual.tcp.option_padding.begin(), actual.tcp.option_padding.end());
      have.resize((have.size() + 3) / 4 * 4, 0);
      raw_want->resize((raw_want->size() + 3) / 4 * 4, 0);
      diff("options", "0x" + wire::hex_string(*raw_want), "0x" + wire::hex_string(have));
    } else if (!pl.options_any) {
      std::vector<wire::TcpOption> have = actual.tcp.options;
      // TS val is the target's clock: compared only with --tcp_ts_tick_usecs, rebased on the
      // first one seen (ecr always is). Trailing EOL padding is not an option.
      for (std::size_t i = 0; i < have.size() && i < want.size(); ++i) {
        auto* h = std::get_if<wire::OptTimestamps>(&have[i]);
        auto* w = std::get_if<wire::OptTimestamps>(&want[i]);
        if (h == nullptr || w == nullptr) continue;
        if (opt_.ts_tick_us == 0) {
          w->val = h->val;
          continue;
        }
        if (!f.ts_base) f.ts_base = std::make_pair(h->val, w->val);
        const std::uint32_t expected = f.ts_base->first + (w->val - f.ts_base->second);
        const auto error =
            std::abs(static_cast<std::int64_t>(static_cast<std::int32_t>(h->val - expected)));
        const std::int64_t slack = tolerance(0) / opt_.ts_tick_us + 1;
        if (error <= slack) {
          w->val = h->val;
        } else {
          diffs.push_back("TS val (expected " + std::to_string(w->val) + ", actual " +
                          std::to_string(w->val + static_cast<std::uint32_t>(h->val - expected)) +
                          ", rebased on the first TS val)");
          w->val = h->val;
        }
      }
      while (!have.empty() && std::holds_alternative<wire::OptEol>(have.back()) &&
             (want.empty() || !std::holds_alternative<wire::OptEol>(want.back()))) {
        have.pop_back();
      }
      for (auto& o : have) {
        if (auto* sack = std::get_if<wire::OptSack>(&o)) {
          for (auto& b : sack->blocks) {
            b = {Seq(b.left.raw() - opt_.harness_isn), Seq(b.right.raw() - opt_.harness_isn)};
          }
        }
      }
      for (auto& o : want) {
        if (auto* sack = std::get_if<wire::OptSack>(&o)) {
          for (auto& b : sack->blocks) {
            b = {Seq(b.left.raw() - opt_.harness_isn), Seq(b.right.raw() - opt_.harness_isn)};
          }
        }
      }
      diff("options", "[" + wire::format_options(want) + "]",
           "[" + wire::format_options(have) + "]");
    }
    const Attributes& a = pl.attributes;
    if (a.src || a.dst) {
      diff("src", wire::Ipv4Addr{a.src.value_or(target_.target_addr())}.to_string(),
           actual.ip.src.to_string());
      diff("dst", wire::Ipv4Addr{a.dst.value_or(target_.harness_addr())}.to_string(),
           actual.ip.dst.to_string());
    } else if (actual.ip.dst.value != target_.harness_addr() ||
               actual.ip.src.value != target_.target_addr()) {
      diffs.push_back("addresses (" + actual.ip.src.to_string() + " > " +
                      actual.ip.dst.to_string() + ")");
    }
    if (a.tos) diff("tos", std::to_string(*a.tos), std::to_string(actual.ip.tos));
    if (a.ttl) diff("ttl", std::to_string(*a.ttl), std::to_string(actual.ip.ttl));
    if (!actual.tcp_checksum_ok || !actual.ip_checksum_ok) {
      diffs.emplace_back("checksum (does not verify)");
    }
    if (diffs.empty()) return;
    std::ostringstream m;
    m << "outbound segment differs: ";
    for (std::size_t i = 0; i < diffs.size(); ++i) m << (i > 0 ? ", " : "") << diffs[i];
    m << "\n  expected: " << describe_expected(pl, f) << "\n  actual:   " << wire::format_tcp(rel);
    fail(l, m.str());
  }

  std::string describe_expected(const PacketLine& pl, const Flow& f) const {
    const std::uint16_t port = flow_port(pl.attributes);
    TcpPacket p;
    p.ip.src = wire::Ipv4Addr{pl.attributes.src.value_or(target_.target_addr())};
    p.ip.dst = wire::Ipv4Addr{pl.attributes.dst.value_or(target_.harness_addr())};
    p.tcp.src_port = target_port(port);
    p.tcp.dst_port = port;
    p.tcp.seq = Seq(pl.seq_start);
    p.tcp.ack = Seq(pl.ack.value_or(0));
    p.tcp.flags = pl.flags;
    p.tcp.window = static_cast<std::uint16_t>(pl.window.value_or(0));
    std::string raw;  // raw options that do not parse, shown as bytes
    if (has_raw_option(pl)) {
      const wire::Bytes bytes = option_bytes(pl, /*inbound=*/false, f);
      auto parsed = wire::parse_tcp_options(bytes, 0, nullptr);
      if (parsed) {
        p.tcp.options = std::move(*parsed);
      } else {
        raw = ", options [0x" + wire::hex_string(bytes) + "]";
      }
    } else {
      for (const OptionSpec& o : pl.options) p.tcp.options.push_back(to_wire(o, false, f));
    }
    for (auto& o : p.tcp.options) {
      if (auto* sack = std::get_if<wire::OptSack>(&o)) {
        for (auto& b : sack->blocks) {
          b = {Seq(b.left.raw() - opt_.harness_isn), Seq(b.right.raw() - opt_.harness_isn)};
        }
      }
    }
    p.payload.resize(pl.payload_length);
    std::string s = wire::format_tcp(p);
    if (!raw.empty()) s.insert(s.rfind(", length"), raw);
    if (!pl.window) {
      const auto at = s.find(", win 0");
      if (at != std::string::npos) s.replace(at, 7, ", win *");
    }
    if (pl.options_any) s.insert(s.rfind(", length"), ", options [...]");
    return s;
  }

  // --- syscalls

  struct Parked {
    const Line* line;
    SockCall call;
    int script_fd;
    std::int64_t started;
  };

  int fd_arg(const Line& l, const SyscallLine& s, std::size_t i) {
    if (s.args.size() <= i || s.args[i].kind != Arg::Kind::kNumber) {
      script_error(l.location,
                   s.name + ": argument " + std::to_string(i + 1) + " must be an fd number");
    }
    const int script_fd = static_cast<int>(s.args[i].number);
    auto it = fds_.find(script_fd);
    last_fd_ = script_fd;
    return it == fds_.end() ? script_fd : it->second;  // unknown fds go through (EBADF tests)
  }

  static std::optional<std::int64_t> number_arg(const SyscallLine& s, std::size_t i) {
    if (s.args.size() <= i) return std::nullopt;
    const Arg& a = s.args[i];
    if (a.kind == Arg::Kind::kNumber) return a.number;
    if (a.kind == Arg::Kind::kArray && !a.elements.empty() &&
        a.elements[0].kind == Arg::Kind::kNumber) {
      return a.elements[0].number;
    }
    return std::nullopt;
  }

  std::uint16_t port_arg(const SyscallLine& s, std::size_t i, std::uint16_t fallback) const {
    if (s.args.size() <= i || s.args[i].kind != Arg::Kind::kStruct) return fallback;
    for (const auto& [name, value] : s.args[i].fields) {
      if (name == "sin_port" && value.kind == Arg::Kind::kSymbols && !value.symbols.empty()) {
        const std::string& sym = value.symbols[0];
        if (sym.starts_with("htons(")) {
          unsigned port = 0;
          auto [end, ec] = std::from_chars(sym.data() + 6, sym.data() + sym.size(), port);
          if (ec == std::errc() && port <= 0xffff && end == sym.data() + sym.size() - 1) {
            return static_cast<std::uint16_t>(port);
          }
        }
      }
      if (name == "sin_port" && value.kind == Arg::Kind::kNumber) {
        return static_cast<std::uint16_t>(value.number);
      }
    }
    return fallback;
  }

  // A sockaddr_in's sin_addr: inet_addr("a.b.c.d"), INADDR_ANY, or absent (0).
  std::uint32_t addr_arg(const Line& l, const SyscallLine& s, std::size_t i) const {
    if (s.args.size() <= i || s.args[i].kind != Arg::Kind::kStruct) return 0;
    for (const auto& [name, value] : s.args[i].fields) {
      if (name != "sin_addr") continue;
      const std::string sym =
          value.kind == Arg::Kind::kSymbols && value.symbols.size() == 1 ? value.symbols[0] : "";
      if (sym == "INADDR_ANY") return 0;
      if (sym.starts_with("inet_addr(") && sym.ends_with(")")) {
        const std::string_view text = std::string_view(sym).substr(10, sym.size() - 11);
        if (auto a = wire::Ipv4Addr::parse(text)) return a->value;
      }
      script_error(l.location, s.name + ": sin_addr must be inet_addr(\"a.b.c.d\") or INADDR_ANY");
    }
    return 0;
  }

  target::Bytes write_bytes(std::size_t n) {
    target::Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = write_byte(written_ + i);
    written_ += n;
    return b;
  }

  SockCall build_call(const Line& l, const SyscallLine& s, int& script_fd) {
    SockCall c;
    const std::string& n = s.name;
    script_fd = -1;
    if (n == "socket") {
      c.op = SockCall::Op::kSocket;
      return c;
    }
    c.fd = fd_arg(l, s, 0);
    script_fd = static_cast<int>(s.args[0].number);
    if (n == "bind") {
      c.op = SockCall::Op::kBind;
      c.port = port_arg(s, 1, opt_.target_port);
      c.addr = addr_arg(l, s, 1);
      bound_port_ = c.port;
    } else if (n == "listen") {
      c.op = SockCall::Op::kListen;
      c.backlog = static_cast<int>(number_arg(s, 1).value_or(1));
    } else if (n == "accept") {
      c.op = SockCall::Op::kAccept;
    } else if (n == "connect") {
      c.op = SockCall::Op::kConnect;
      c.port = port_arg(s, 1, opt_.target_port);
      c.addr = addr_arg(l, s, 1);
    } else if (n == "read" || n == "recv") {
      c.op = SockCall::Op::kRead;
      c.length = static_cast<std::size_t>(number_arg(s, 2).value_or(0));
    } else if (n == "write" || n == "send") {
      c.op = SockCall::Op::kWrite;
      c.length = static_cast<std::size_t>(number_arg(s, 2).value_or(0));
    } else if (n == "shutdown") {
      c.op = SockCall::Op::kShutdown;
      const std::string how =
          s.args.size() > 1 && !s.args[1].symbols.empty() ? s.args[1].symbols[0] : "";
      c.how = how == "SHUT_RD"     ? 0
              : how == "SHUT_WR"   ? 1
              : how == "SHUT_RDWR" ? 2
                                   : static_cast<int>(number_arg(s, 1).value_or(-1));
      if (c.how < 0 || c.how > 2) {
        script_error(l.location, "shutdown: expected SHUT_RD, SHUT_WR or SHUT_RDWR");
      }
    } else if (n == "close") {
      c.op = SockCall::Op::kClose;
    } else if (n == "setsockopt" || n == "getsockopt") {
      c.op = n == "setsockopt" ? SockCall::Op::kSetsockopt : SockCall::Op::kGetsockopt;
      if (s.args.size() < 4 || s.args[2].symbols.empty()) {
        script_error(l.location, n + ": expected (fd, level, OPTION, value, len)");
      }
      c.option = s.args[2].symbols[0];
      const Arg& v = s.args[3];
      if (c.option == "SO_LINGER" && v.kind == Arg::Kind::kStruct) {
        for (const auto& [field, val] : v.fields) {
          if (field == "l_onoff") c.linger_on = val.number != 0;
          if (field == "l_linger") c.value = static_cast<int>(val.number);
        }
      } else if (c.op == SockCall::Op::kSetsockopt) {
        auto val = number_arg(s, 3);
        if (!val) script_error(l.location, "setsockopt: the value must be a number or [number]");
        c.value = static_cast<int>(*val);
      }
    } else if (n == "fcntl") {
      const std::string cmd =
          s.args.size() > 1 && !s.args[1].symbols.empty() ? s.args[1].symbols[0] : "";
      if (cmd == "F_SETFL") {
        c.op = SockCall::Op::kSetNonblocking;
        const auto& flags = s.args.size() > 2 ? s.args[2].symbols : std::vector<std::string>{};
        c.nonblocking = std::find(flags.begin(), flags.end(), "O_NONBLOCK") != flags.end();
      } else if (cmd == "F_GETFL") {
        c.op = SockCall::Op::kGetNonblocking;
      } else {
        script_error(l.location, "fcntl: only F_SETFL and F_GETFL are supported");
      }
    } else if (n == "ioctl") {
      const std::string req =
          s.args.size() > 1 && !s.args[1].symbols.empty() ? s.args[1].symbols[0] : "";
      if (req == "SIOCINQ" || req == "FIONREAD") {
        c.op = SockCall::Op::kIoctlInq;
      } else if (req == "SIOCOUTQ" || req == "TIOCOUTQ") {
        c.op = SockCall::Op::kIoctlOutq;
      } else {
        script_error(l.location,
                     "ioctl: only SIOCINQ/FIONREAD and SIOCOUTQ/TIOCOUTQ are supported");
      }
    } else {
      script_error(l.location, "unsupported syscall '" + n + "'");
    }
    return c;
  }

  static bool can_block(SockCall::Op op) {
    return op == SockCall::Op::kAccept || op == SockCall::Op::kConnect ||
           op == SockCall::Op::kRead || op == SockCall::Op::kWrite;
  }

  void syscall(const Line& l, const SyscallLine& s) {
    if (s.name == "poll") {
      poll(l, s);
      return;
    }
    int script_fd = -1;
    SockCall c = build_call(l, s, script_fd);
    if (c.op == SockCall::Op::kWrite) c.data = write_bytes(c.length);
    const std::int64_t started = script_now();
    if (c.op == SockCall::Op::kClose && nonblocking_.count(script_fd) == 0 &&
        lingering_.count(script_fd) != 0) {
      // SO_LINGER {on, N > 0} on a blocking socket: close() returns once the FIN is
      // acknowledged or N seconds have passed, as on Linux. The FIN goes now (shutdown), the fd
      // closes when the wait ends.
      SockCall fin = c;
      fin.op = SockCall::Op::kShutdown;
      fin.how = 1;
      target_.call(fin);
      linger_deadline_ = started + lingering_.at(script_fd) * 1'000'000;
      park(l, c, script_fd, started);
      retry_parked(l);
      return;
    }
    SockResult r = target_.call(c);
    if (c.op == SockCall::Op::kConnect && (r.ret == 0 || r.err == EINPROGRESS)) {
      // A new handshake: the target picks a new ISN and, on an active open, a new port. (A
      // connect() that fails at once, EALREADY or EISCONN, leaves the connection as it was.)
      harness_port_ = c.port;  // the default flow from now on
      fd_flows_[script_fd] = c.port;
      Flow& f = flow(c.port);
      f.learn_target_port = true;  // the target's port is learned from its SYN
      f.target_port.reset();
      f.isn_fresh = true;
    }
    if (c.op == SockCall::Op::kConnect && r.ret == -1 && r.err == EINPROGRESS &&
        (nonblocking_.count(script_fd) == 0u)) {
      park(l, c, script_fd, started);
      return;
    }
    if (can_block(c.op) && r.ret == -1 && r.err == EAGAIN &&
        (nonblocking_.count(script_fd) == 0u)) {
      park(l, c, script_fd, started);
      return;
    }
    complete(l, s, c, script_fd, r);
  }

  void park(const Line& l, const SockCall& c, int script_fd, std::int64_t started) {
    if (parked_) {
      fail(l, "a blocking call is already waiting (line " +
                  std::to_string(parked_->line->location.line) + ")");
    }
    parked_ = Parked{&l, c, script_fd, started};
  }

  // Completes a parked call if it can now (called as time passes and segments flow).
  void retry_parked(const Line& during) {
    if (!parked_) return;
    Parked p = *parked_;
    const unsigned ev = target_.poll(p.call.fd);
    SockResult r;
    if (p.call.op == SockCall::Op::kConnect) {
      if ((ev & 0x004U) != 0) {
        r = SockResult{0, 0, {}, 0};
      } else if ((ev & 0x018U) != 0) {
        SockCall err;
        err.op = SockCall::Op::kGetsockopt;
        err.fd = p.call.fd;
        err.option = "SO_ERROR";
        const SockResult e = target_.call(err);
        r = SockResult{-1, e.value != 0 ? e.value : ECONNREFUSED, {}, 0};
      } else {
        return;
      }
    } else if (p.call.op == SockCall::Op::kClose) {
      const auto info = target_.tcp_info(p.call.fd);
      const std::int64_t state = info && info->count("state") != 0 ? info->at("state") : 7;
      const bool fin_unacked =
          state == 4 || state == 9 || state == 11;  // FIN_WAIT1, LAST_ACK, CLOSING
      if (fin_unacked && script_now() < linger_deadline_) return;
      r = target_.call(p.call);
    } else {
      r = target_.call(p.call);
      if (r.ret == -1 && r.err == EAGAIN) return;
    }
    parked_.reset();
    const auto& s = std::get<SyscallLine>(p.line->event);
    // When it returned: the line's "...end", or (without one) the line's own time.
    const std::int64_t at = script_now();
    const std::int64_t expected =
        p.line->time.blocking_end_us
            ? (p.line->time.blocking_end_relative ? p.started + *p.line->time.blocking_end_us
                                                  : *p.line->time.blocking_end_us)
            : p.started;
    const std::int64_t tol = tolerance(expected - p.started);
    if (at < expected - tol || at > expected + tol) {
      fail(*p.line, s.name + " blocked until " + seconds(at) + ", expected it to return at " +
                        seconds(expected) + " (" + seconds(std::abs(at - expected)) + " s " +
                        (at > expected ? "late" : "early") + ", tolerance " + seconds(tol) +
                        " s; write '...end' on the line for a call that blocks)" +
                        (during.location.line != p.line->location.line
                             ? " [noticed at line " + std::to_string(during.location.line) + "]"
                             : ""));
    }
    complete(*p.line, s, p.call, p.script_fd, r);
  }

  void finish_parked() {
    if (!parked_) return;
    const Line& l = *parked_->line;
    const std::int64_t limit =
        parked_->started + (l.time.blocking_end_us
                                ? *l.time.blocking_end_us + tolerance(*l.time.blocking_end_us)
                                : tolerance(0));
    quiet_until(l, std::max(script_now(), limit), "while a blocking call waits");
    if (parked_) fail(l, std::get<SyscallLine>(l.event).name + " never returned");
  }

  void complete(const Line& l, const SyscallLine& s, const SockCall& c, int script_fd,
                const SockResult& r) {
    // socket() and accept() create fds: map the script's number to the target's.
    if (r.ret >= 0 && (c.op == SockCall::Op::kSocket || c.op == SockCall::Op::kAccept) &&
        s.result) {
      fds_[static_cast<int>(*s.result)] = static_cast<int>(r.ret);
      last_fd_ = static_cast<int>(*s.result);
      // accept() binds the new fd to the flow whose handshake it completed (its peer's port);
      // the default flow stays what it was.
      if (c.op == SockCall::Op::kAccept) {
        fd_flows_[static_cast<int>(*s.result)] = static_cast<std::uint16_t>(r.value);
      }
    }
    if (c.op == SockCall::Op::kSetNonblocking && r.ret == 0) {
      if (c.nonblocking) {
        nonblocking_.insert(script_fd);
      } else {
        nonblocking_.erase(script_fd);
      }
    }
    if (c.op == SockCall::Op::kClose && r.ret == 0) {
      fds_.erase(script_fd);
      fd_flows_.erase(script_fd);
      lingering_.erase(script_fd);
    }
    if (c.op == SockCall::Op::kSetsockopt && c.option == "SO_LINGER" && r.ret == 0) {
      if (c.linger_on && c.value > 0) {
        lingering_[script_fd] = c.value;
      } else {
        lingering_.erase(script_fd);
      }
    }
    if (observer_ != nullptr && r.ret > 0) {
      if (auto key = target_.connection(c.fd)) {
        if (c.op == SockCall::Op::kWrite) {
          observer_->on_app_write(*key, target::Bytes(c.data.begin(), c.data.begin() + r.ret));
        }
        if (c.op == SockCall::Op::kRead) observer_->on_app_read(*key, r.data);
      }
    }
    check_result(l, s, c, r);
    check_observer(&l);
  }

  void check_result(const Line& l, const SyscallLine& s, const SockCall& c, const SockResult& r) {
    const bool fd_creating = c.op == SockCall::Op::kSocket || c.op == SockCall::Op::kAccept;
    if (s.result) {
      const bool want_error = *s.result == -1;
      if (want_error != (r.ret == -1) || (!want_error && !fd_creating && *s.result != r.ret)) {
        fail(l, s.name + " returned " + std::to_string(r.ret) +
                    (r.ret == -1 ? " " + errno_name(r.err) : "") + ", expected " +
                    std::to_string(*s.result) + (s.errno_name.empty() ? "" : " " + s.errno_name));
      }
      if (want_error && !s.errno_name.empty()) {
        auto it = errno_numbers().find(s.errno_name);
        if (it == errno_numbers().end()) {
          script_error(l.location, "unknown errno '" + s.errno_name + "'");
        }
        if (it->second != r.err && !(s.errno_name == "EAGAIN" && r.err == EWOULDBLOCK)) {
          fail(l, s.name + " failed with " + errno_name(r.err) + ", expected " + s.errno_name);
        }
      }
    }
    // getsockopt and ioctl return a value through their pointer argument: [expected].
    if ((c.op == SockCall::Op::kGetsockopt || c.op == SockCall::Op::kIoctlInq ||
         c.op == SockCall::Op::kIoctlOutq) &&
        r.ret == 0) {
      const std::size_t at = c.op == SockCall::Op::kGetsockopt ? 3 : 2;
      if (s.args.size() > at && s.args[at].kind == Arg::Kind::kArray &&
          !s.args[at].elements.empty()) {
        const Arg& e = s.args[at].elements[0];
        std::optional<std::int64_t> want;
        if (e.kind == Arg::Kind::kNumber) want = e.number;
        if (e.kind == Arg::Kind::kSymbols && !e.symbols.empty()) {
          auto it = errno_numbers().find(e.symbols[0]);
          if (it == errno_numbers().end()) {
            script_error(l.location, "unknown value '" + e.symbols[0] + "'");
          }
          want = it->second;
        }
        if (want && *want != r.value) {
          fail(l, s.name + " gave " + std::to_string(r.value) +
                      (c.option == "SO_ERROR" && r.value != 0 ? " (" + errno_name(r.value) + ")"
                                                              : "") +
                      ", expected " + std::to_string(*want));
        }
      }
    }
  }

  void poll(const Line& l, const SyscallLine& s) {
    if (s.args.empty() || s.args[0].kind != Arg::Kind::kArray || s.args[0].elements.size() != 1) {
      script_error(l.location, "poll: expected [{fd=N, events=..., revents=...}], 1, timeout");
    }
    const Arg& pfd = s.args[0].elements[0];
    int fd = -1;
    unsigned events = 0;
    std::optional<unsigned> revents;
    auto bits = [&](const Arg& a) {
      unsigned b = 0;
      for (const std::string& sym : a.symbols) {
        auto it = poll_bits().find(sym);
        if (it == poll_bits().end()) script_error(l.location, "poll: unknown event '" + sym + "'");
        b |= it->second;
      }
      return a.kind == Arg::Kind::kNumber ? static_cast<unsigned>(a.number) : b;
    };
    for (const auto& [name, value] : pfd.fields) {
      if (name == "fd") {
        last_fd_ = static_cast<int>(value.number);
        auto it = fds_.find(last_fd_);
        fd = it == fds_.end() ? last_fd_ : it->second;
      } else if (name == "events") {
        events = bits(value);
      } else if (name == "revents") {
        revents = bits(value);
      }
    }
    SockCall c;
    c.op = SockCall::Op::kPoll;
    c.fd = fd;
    c.poll_events = events;
    const SockResult r = target_.call(c);
    check_result(l, s, c, r);
    if (revents && *revents != static_cast<unsigned>(r.value)) {
      fail(l, "poll revents " + std::to_string(r.value) + ", expected " + std::to_string(*revents));
    }
  }

  // Harness pseudo-fields about the target's ISNs (RFC 9293 3.4.1, RFC 6528), by flow:
  //   isn_gap(a, b)    the circular distance between the ISNs on flows a and b, 0 to 2^31
  //   isn_advance(p)   (ISN - the previous ISN) mod 2^32 on a flow that was re-opened
  std::int64_t isn_field(const Line& l, const AssertLine::Comparison& c) const {
    auto isn = [&](std::uint16_t port) -> const Flow& {
      const Flow* f = find_flow(port);
      if (f == nullptr || !f->target_isn) {
        script_error(l.location, c.text + ": flow " + std::to_string(port) +
                                     " has no ISN yet (no SYN or SYN,ACK from the target to "
                                     "harness port " +
                                     std::to_string(port) + " matched a line)");
      }
      return *f;
    };
    if (c.field == "isn_gap") {
      const std::uint32_t d = *isn(c.ports[0]).target_isn - *isn(c.ports[1]).target_isn;
      return std::min<std::int64_t>(d, (std::int64_t{1} << 32) - d);
    }
    const Flow& f = isn(c.ports[0]);
    if (!f.previous_isn) {
      script_error(l.location, c.text + ": flow " + std::to_string(c.ports[0]) +
                                   " has had one ISN so far (isn_advance needs the flow "
                                   "re-opened: a new SYN or SYN,ACK from the target on it)");
    }
    return static_cast<std::uint32_t>(*f.target_isn - *f.previous_isn);
  }

  void assertion(const Line& l, const AssertLine& a) {
    std::optional<target::TcpInfo> info;  // fetched for the first tcpi_ field
    for (const auto& c : a.all) {
      std::int64_t want = 0;
      std::int64_t have = 0;
      const std::string field = c.field.starts_with("tcpi_") ? c.field.substr(5) : c.field;
      if (c.field == "isn_gap" || c.field == "isn_advance") {
        have = isn_field(l, c);
      } else {
        if (!info) {
          info = target_.tcp_info(fds_.count(last_fd_) != 0u ? fds_.at(last_fd_) : last_fd_);
          if (!info) fail(l, "no TCP_INFO: fd " + std::to_string(last_fd_) + " is not a socket");
        }
        auto it = info->find(field);
        if (it == info->end()) {
          fail(l, c.field + " is not available on target " + target_.name());
        }
        have = it->second;
      }
      if (auto st = tcp_state_numbers().find(c.value); st != tcp_state_numbers().end()) {
        want = st->second;
      } else {
        char* end = nullptr;
        want = std::strtoll(c.value.c_str(), &end, 0);
        if (end == c.value.c_str() || *end != '\0') {
          script_error(l.location, "unknown value '" + c.value + "'");
        }
      }
      const bool ok = c.op == "=="   ? have == want
                      : c.op == "!=" ? have != want
                      : c.op == "<"  ? have < want
                      : c.op == "<=" ? have <= want
                      : c.op == ">"  ? have > want
                                     : have >= want;
      if (!ok) {
        std::string shown = std::to_string(have);
        for (const auto& [name, n] : tcp_state_numbers()) {
          if (field == "state" && n == have) shown = name;
        }
        const std::string& name = c.text.empty() ? c.field : c.text;
        std::string what = "assertion failed: " + name;
        what += " " + c.op + " " + c.value + " (" + name;
        what += " is " + shown + ")";
        fail(l, what);
      }
    }
  }

  // --- one line

  void step(const Line& l) {
    if (opt_.trace) opt_.trace(l.location.to_string() + " " + trim(l.text));
    if (const auto* p = std::get_if<PacketLine>(&l.event);
        p != nullptr && p->direction == Direction::kOutbound) {
      expect_outbound(l, *p);
      retry_parked(l);
      return;
    }
    const std::int64_t t = resolve(l.time.start_us, l.time.kind == TimeSpec::Kind::kRelative);
    if (std::holds_alternative<SilenceLine>(l.event)) {
      quiet_until(l, t, "where the script expects silence");
      prev_ = t;
      return;
    }
    quiet_until(l, t, "before this line");
    prev_ = t;
    if (const auto* p = std::get_if<PacketLine>(&l.event)) {
      inject(l, *p);
      retry_parked(l);
    } else if (const auto* m = std::get_if<IcmpLine>(&l.event)) {
      inject_icmp(l, *m);
      retry_parked(l);
    } else if (const auto* s = std::get_if<SyscallLine>(&l.event)) {
      syscall(l, *s);
    } else if (const auto* a = std::get_if<AssertLine>(&l.event)) {
      assertion(l, *a);
    }
  }

  const Script& script_;
  target::Target& target_;
  RunOptions opt_;
  Observer* observer_;
  std::int64_t t0_ = 0;
  std::int64_t prev_ = 0;                      // script time of the previous event
  std::map<std::uint16_t, Flow> flows_;        // by harness port
  std::optional<std::uint16_t> bound_port_;    // the target's port from bind()
  std::optional<std::uint16_t> harness_port_;  // the default flow, once connect() chose it
  std::map<int, std::uint16_t> fd_flows_;      // script fd -> the flow of its connection
  std::map<int, int> fds_;                     // script fd -> target fd
  std::vector<int> isn_lines_;                 // lines whose SYN defined a target ISN
  std::set<int> nonblocking_;
  std::map<int, std::int64_t> lingering_;  // script fd -> SO_LINGER seconds (> 0)
  std::int64_t linger_deadline_ = 0;
  int last_fd_ = -1;
  std::size_t written_ = 0;
  std::optional<Parked> parked_;
  std::vector<LinkEvent> link_;
};

}  // namespace

CaseResult run_script(const Script& script, target::Target& target, RunOptions options,
                      Observer* observer) {
  return Run(script, target, std::move(options), observer).go();
}

std::int64_t script_span_us(const Script& s) {
  using K = TimeSpec::Kind;
  std::int64_t prev = 0;
  std::int64_t latest = 0;
  for (const Line& l : s.lines) {
    const TimeSpec& t = l.time;
    std::int64_t at = t.kind == K::kAny        ? prev
                      : t.kind == K::kRelative ? prev + t.start_us
                                               : t.start_us;
    std::int64_t end = at;
    if (t.range_end_us) end = t.range_end_relative ? prev + *t.range_end_us : *t.range_end_us;
    if (t.blocking_end_us) {
      latest =
          std::max(latest, t.blocking_end_relative ? at + *t.blocking_end_us : *t.blocking_end_us);
    }
    prev = at;
    latest = std::max({latest, at, end});
  }
  return latest;
}

}  // namespace synack::script
