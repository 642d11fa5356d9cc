#include "fuzz/replay/render.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>

#include "harness/wire/icmp.h"
#include "harness/wire/pcap.h"
#include "harness/wire/tcp.h"

namespace synack::fuzz {
namespace {

constexpr std::uint32_t kStackAddr = 0xc0a80001;
constexpr std::uint32_t kPeerAddr = 0xc0a80002;

std::string seconds(std::int64_t us) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(us) / 1e6);
  return buf;
}

// The script's flag letters (parser.cc): "-" for none.
std::string flag_letters(std::uint8_t flags) {
  namespace f = wire::tcp_flags;
  static constexpr struct {
    std::uint8_t bit;
    char letter;
  } kLetters[] = {{f::kSyn, 'S'}, {f::kFin, 'F'}, {f::kRst, 'R'}, {f::kPsh, 'P'},
                  {f::kUrg, 'U'}, {f::kEce, 'E'}, {f::kCwr, 'W'}, {f::kAck, '.'}};
  std::string s;
  for (const auto& l : kLetters) {
    if ((flags & l.bit) != 0) s += l.letter;
  }
  return s.empty() ? "-" : s;
}

// The runner's per-flow state that decides how numbers are written (runner.cc, Flow).
struct Flow {
  std::optional<std::uint32_t> stack_isn;
  bool isn_fresh = true;
  bool stack_sent_syn_last = false;
};

class Renderer {
 public:
  Renderer(const SessionLog& log, RenderedScript& out) : log_(log), out_(out) {}

  void render(const std::string& source) {
    std::string& t = out_.text;
    t += "// synack replay of " + source + "\n";
    if (log_.finding.empty()) {
      t += "// The input ran clean: this script passes.\n";
    } else {
      t += "// Finding: " + log_.finding + "\n";
      t += "// The script fails where the input did.\n";
    }
    t += "// Run it: synack run --target inproc THIS_FILE\n";
    for (const std::string& k : log_.knobs) t += k + "\n";
    if (log_.harness_isn != 0) t += "--harness_isn=" + std::to_string(log_.harness_isn) + "\n";
    for (const LogEvent& e : log_.events) {
      switch (e.kind) {
        case LogEvent::Kind::kCall:
          call(e);
          break;
        case LogEvent::Kind::kInbound:
          packet(e, /*inbound=*/true);
          break;
        case LogEvent::Kind::kOutbound:
          packet(e, /*inbound=*/false);
          break;
      }
    }
    if (!log_.finding.empty()) t += "// Finding above: " + log_.finding + "\n";
  }

 private:
  void line(std::int64_t time_us, const std::string& body) {
    out_.text += seconds(time_us) + " " + body + "\n";
    ++out_.lines;
  }

  void unrenderable(const LogEvent& e, const std::string& why) {
    out_.text += "// " + seconds(e.time_us) + (e.kind == LogEvent::Kind::kInbound ? " < " : " > ") +
                 "(not stated: " + why + ")\n";
    ++out_.unrenderable;
  }

  static std::optional<int> result_fd(const std::string& call) {
    const std::size_t eq = call.rfind(" = ");
    if (eq == std::string::npos) return std::nullopt;
    int fd = -1;
    const char* begin = call.data() + eq + 3;
    auto [end, ec] = std::from_chars(begin, call.data() + call.size(), fd);
    if (ec != std::errc() || fd < 0) return std::nullopt;
    return fd;
  }

  void call(const LogEvent& e) {
    line(e.time_us, e.call);
    const bool makes_fd = e.call.starts_with("socket(") || e.call.starts_with("accept(");
    if (makes_fd) {
      if (auto fd = result_fd(e.call)) {
        line(e.time_us, "fcntl(" + std::to_string(*fd) + ", F_SETFL, O_RDWR|O_NONBLOCK) = 0");
      }
    }
    if (e.call.starts_with("connect(")) {
      // A connect that starts a handshake makes the flow's next stack SYN a new ISN.
      const std::size_t h = e.call.find("htons(");
      const bool started =
          e.call.ends_with(" = 0") || e.call.find("EINPROGRESS") != std::string::npos;
      if (h != std::string::npos && started) {
        unsigned port = 0;
        std::from_chars(e.call.data() + h + 6, e.call.data() + e.call.size(), port);
        flows_[static_cast<std::uint16_t>(port)].isn_fresh = true;
      }
    }
  }

  std::string options(const wire::TcpPacket& p, bool inbound, const Flow& f) const {
    std::string s;
    for (const wire::TcpOption& o : p.tcp.options) {
      if (!s.empty()) s += ",";
      if (std::holds_alternative<wire::OptNop>(o)) {
        s += "nop";
      } else if (std::holds_alternative<wire::OptEol>(o)) {
        s += "eol";
      } else if (const auto* m = std::get_if<wire::OptMss>(&o)) {
        s += "mss " + std::to_string(m->mss);
      } else if (const auto* w = std::get_if<wire::OptWindowScale>(&o)) {
        s += "wscale " + std::to_string(w->shift);
      } else if (std::holds_alternative<wire::OptSackPermitted>(o)) {
        s += "sackOK";
      } else if (const auto* k = std::get_if<wire::OptSack>(&o)) {
        // Inbound SACK blocks are about the stack's sequence space, outbound about the harness's.
        const std::uint32_t base = inbound ? f.stack_isn.value_or(0) : log_.harness_isn;
        s += "sack";
        for (const auto& b : k->blocks) {
          s += " " + std::to_string(b.left.raw() - base) + ":" +
               std::to_string(b.right.raw() - base);
        }
      } else if (const auto* ts = std::get_if<wire::OptTimestamps>(&o)) {
        s += "TS val " + std::to_string(ts->val) + " ecr " + std::to_string(ts->ecr);
      } else {
        return "?";  // raw bytes: the caller says so
      }
    }
    return s;
  }

  // "< icmp TYPE CODE [mtu N] [start:end(len)] [sport P]": only when the runner would build
  // exactly these bytes from that line (runner.cc, inject_icmp).
  bool icmp(const LogEvent& e) {
    auto parsed = wire::parse_icmp_packet(e.packet);
    if (!parsed) return false;
    const wire::Bytes& body = parsed->icmp.body;
    if (body.size() < 28) return false;
    const std::size_t ihl = static_cast<std::size_t>(body[0] & 0x0f) * 4;
    if (ihl != 20 || body.size() < ihl + 8) return false;
    const auto total = static_cast<std::size_t>((body[2] << 8) | body[3]);
    if (total < ihl + wire::kTcpMinHeader) return false;
    const auto be16 = [&](std::size_t at) {
      return static_cast<std::uint16_t>((body[at] << 8) | body[at + 1]);
    };
    const std::uint16_t stack_port = be16(ihl);
    const std::uint16_t port = be16(ihl + 2);
    const std::uint32_t seq = (std::uint32_t{be16(ihl + 4)} << 16) | be16(ihl + 6);
    const std::size_t length = total - ihl - wire::kTcpMinHeader;
    const bool frag_needed = parsed->icmp.type == 3 && parsed->icmp.code == 4;
    // The runner's packet for that line.
    wire::Ipv4Header original;
    original.flags = wire::kIpFlagDontFragment;
    original.protocol = wire::kIpProtoTcp;
    original.src = wire::Ipv4Addr{kStackAddr};
    original.dst = wire::Ipv4Addr{kPeerAddr};
    wire::Bytes tcp_start;
    wire::append_be16(tcp_start, stack_port);
    wire::append_be16(tcp_start, port);
    wire::append_be32(tcp_start, seq);
    wire::IcmpPacket p;
    p.ip.src = wire::Ipv4Addr{kPeerAddr};
    p.ip.dst = wire::Ipv4Addr{kStackAddr};
    p.ip.flags = wire::kIpFlagDontFragment;
    p.icmp.type = parsed->icmp.type;
    p.icmp.code = parsed->icmp.code;
    p.icmp.rest = frag_needed ? parsed->icmp.rest & 0xffff : 0;
    p.icmp.body = wire::icmp_quote(original, wire::kTcpMinHeader + length, tcp_start);
    if (wire::emit(p) != e.packet) return false;
    const std::uint32_t start = seq - flows_[port].stack_isn.value_or(0);
    std::string body_text =
        "< icmp " + std::to_string(p.icmp.type) + " " + std::to_string(p.icmp.code);
    if (frag_needed) body_text += " mtu " + std::to_string(p.icmp.rest);
    body_text += " [" + std::to_string(start) + ":" + std::to_string(start + length) + "(" +
                 std::to_string(length) + ")] [sport " + std::to_string(port) + "]";
    line(e.time_us, body_text);
    return true;
  }

  void packet(const LogEvent& e, bool inbound) {
    if (inbound && e.packet.size() > 9 && e.packet[9] == wire::kIpProtoIcmp) {
      if (!icmp(e)) unrenderable(e, "an ICMP message the runner would not build so");
      return;
    }
    auto parsed = wire::parse_tcp_packet(e.packet);
    if (!parsed) {
      unrenderable(e, "not an IPv4 TCP packet synack parses: " + parsed.error().message());
      return;
    }
    wire::TcpPacket& p = *parsed;
    if (!p.ip_checksum_ok) return unrenderable(e, "bad IP header checksum");
    if (!p.ip.options.empty()) return unrenderable(e, "IP options");
    // Zero fill after the last option parses as EOL and padding; the runner fills the same way,
    // so the script leaves it out. Anything else after an EOL, the language cannot state.
    const bool zero_fill = std::all_of(p.tcp.option_padding.begin(), p.tcp.option_padding.end(),
                                       [](std::uint8_t b) { return b == 0; });
    if (!zero_fill) return unrenderable(e, "bytes after the TCP options");
    if (!p.tcp.options.empty() && std::holds_alternative<wire::OptEol>(p.tcp.options.back())) {
      p.tcp.options.pop_back();
    }
    const std::uint32_t stack_addr = inbound ? p.ip.dst.value : p.ip.src.value;
    const std::uint32_t peer_addr = inbound ? p.ip.src.value : p.ip.dst.value;
    if (peer_addr != kPeerAddr) return unrenderable(e, "a peer address other than 192.168.0.2");
    const std::uint16_t port = inbound ? p.tcp.src_port : p.tcp.dst_port;
    Flow& f = flows_[port];
    namespace tf = wire::tcp_flags;
    if (inbound) {
      const bool syn_only = (p.tcp.flags & (tf::kSyn | tf::kAck)) == tf::kSyn;
      if (p.tcp.has(tf::kRst) || (syn_only && !f.stack_sent_syn_last)) f.isn_fresh = true;
    } else if (p.tcp.has(tf::kSyn) && (f.isn_fresh || !f.stack_isn)) {
      f.stack_isn = p.tcp.seq.raw();
      f.isn_fresh = false;
    }
    const std::string opts = options(p, inbound, f);
    if (opts == "?" || opts.find(",?") != std::string::npos) {
      return unrenderable(e, "raw TCP option bytes");
    }
    const std::uint32_t own_isn = inbound ? log_.harness_isn : f.stack_isn.value_or(0);
    const std::uint32_t other_isn = inbound ? f.stack_isn.value_or(0) : log_.harness_isn;
    const auto len = static_cast<std::uint32_t>(p.payload.size());
    const std::uint32_t start = p.tcp.seq.raw() - own_isn;
    std::string body = std::string(inbound ? "< " : "> ") + flag_letters(p.tcp.flags) + " " +
                       std::to_string(start) + ":" + std::to_string(start + len) + "(" +
                       std::to_string(len) + ")";
    if (p.tcp.has(tf::kAck)) body += " ack " + std::to_string(p.tcp.ack.raw() - other_isn);
    if (p.tcp.urgent_pointer != 0 || p.tcp.has(tf::kUrg)) {
      body += " urg " + std::to_string(p.tcp.urgent_pointer);  // (the parser wants it here)
    }
    body += " win " + std::to_string(p.tcp.window);
    if (!p.tcp.options.empty()) body += " <" + opts + ">";
    std::string attrs = "sport " + std::to_string(port);
    if (stack_addr != kStackAddr) {
      attrs += std::string(inbound ? ", dst " : ", src ") + wire::Ipv4Addr{stack_addr}.to_string();
    }
    if (p.ip.tos != 0) attrs += ", tos " + std::to_string(p.ip.tos);
    if (inbound && p.ip.ttl != 64) attrs += ", ttl " + std::to_string(p.ip.ttl);
    if (!p.tcp_checksum_ok) {
      if (!inbound) return unrenderable(e, "the stack sent a bad TCP checksum");
      attrs += ", bad tcp csum";
    }
    body += " [" + attrs + "]";
    line(e.time_us, body);
    if (!inbound) {
      if (p.tcp.has(tf::kRst)) f.isn_fresh = true;
      f.stack_sent_syn_last = p.tcp.has(tf::kSyn);
    }
  }

  const SessionLog& log_;
  RenderedScript& out_;
  std::map<std::uint16_t, Flow> flows_;
};

}  // namespace

RenderedScript render_pkt(const SessionLog& log, const std::string& source) {
  RenderedScript out;
  Renderer(log, out).render(source);
  return out;
}

std::string write_pcap(const SessionLog& log, const std::string& path) {
  auto w = wire::PcapWriter::open(path, wire::LinkType::kRaw);
  if (!w) return w.error();
  for (const LogEvent& e : log.events) {
    if (e.kind != LogEvent::Kind::kCall) w->write(e.time_us, e.packet);
  }
  return w->close();
}

}  // namespace synack::fuzz
