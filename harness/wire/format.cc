#include "harness/wire/format.h"

#include <cstdio>

namespace synack::wire {
namespace {

std::string hex16(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

const char* known_option_name(std::uint8_t kind) {
  namespace k = tcp_option_kind;
  switch (kind) {
    case k::kMss:
      return "mss";
    case k::kWindowScale:
      return "wscale";
    case k::kSackPermitted:
      return "sackOK";
    case k::kSack:
      return "sack";
    case k::kTimestamps:
      return "TS";
    default:
      return nullptr;
  }
}

struct OptionFormatter {
  std::string& out;
  void operator()(const OptEol&) const { out += "eol"; }
  void operator()(const OptNop&) const { out += "nop"; }
  void operator()(const OptMss& o) const { out += "mss " + std::to_string(o.mss); }
  void operator()(const OptWindowScale& o) const { out += "wscale " + std::to_string(o.shift); }
  void operator()(const OptSackPermitted&) const { out += "sackOK"; }
  void operator()(const OptSack& o) const {
    out += "sack " + std::to_string(o.blocks.size()) + " ";
    for (const SackBlock& b : o.blocks) {
      out += "{" + std::to_string(b.left.raw()) + ":" + std::to_string(b.right.raw()) + "}";
    }
  }
  void operator()(const OptTimestamps& o) const {
    out += "TS val " + std::to_string(o.val) + " ecr " + std::to_string(o.ecr);
  }
  void operator()(const OptRaw& o) const {
    if (const char* name = known_option_name(o.kind)) {
      out += std::string(name) + " [bad length " + std::to_string(o.data.size() + 2) + "]";
    } else {
      out += "unknown-" + std::to_string(o.kind);
    }
    if (!o.data.empty()) out += " 0x" + hex_string(o.data);
  }
};

std::string ports(Ipv4Addr a, std::uint16_t port) {
  return a.to_string() + "." + std::to_string(port);
}

}  // namespace

std::string hex_string(ByteSpan b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (std::uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 0xf];
  }
  return s;
}

std::string format_flags(std::uint8_t flags) {
  namespace f = tcp_flags;
  static constexpr struct {
    std::uint8_t bit;
    char letter;
  } kLetters[] = {{f::kFin, 'F'}, {f::kSyn, 'S'}, {f::kRst, 'R'}, {f::kPsh, 'P'},
                  {f::kAck, '.'}, {f::kUrg, 'U'}, {f::kEce, 'E'}, {f::kCwr, 'W'}};
  std::string s;
  for (const auto& l : kLetters) {
    if ((flags & l.bit) != 0) s += l.letter;
  }
  return s.empty() ? "none" : s;
}

std::string format_options(const std::vector<TcpOption>& options) {
  std::string out;
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (i > 0) out += ',';
    std::visit(OptionFormatter{out}, options[i]);
  }
  return out;
}

std::uint16_t correct_tcp_checksum(const TcpPacket& p) {
  TcpPacket copy = p;
  copy.tcp.checksum.reset();
  const Bytes b = emit(copy);
  // The emitter always writes the options it holds, whatever the IHL field claims.
  return load_be16(b, copy.ip.emitted_header_length() + 16);
}

std::string format_tcp(const TcpPacket& p) {
  const TcpHeader& t = p.tcp;
  std::string s = ports(p.ip.src, t.src_port) + " > " + ports(p.ip.dst, t.dst_port) + ": Flags [" +
                  format_flags(t.flags) + "], seq " + std::to_string(t.seq.raw());
  if (!p.payload.empty()) {
    s += ":" + std::to_string((t.seq + static_cast<std::uint32_t>(p.payload.size())).raw());
  }
  if (t.has(tcp_flags::kAck)) s += ", ack " + std::to_string(t.ack.raw());
  s += ", win " + std::to_string(t.window);
  if (t.has(tcp_flags::kUrg)) s += ", urg " + std::to_string(t.urgent_pointer);
  if (!t.options.empty()) s += ", options [" + format_options(t.options) + "]";
  s += ", length " + std::to_string(p.payload.size());
  if (!p.ip_checksum_ok) s += " [bad ip cksum " + hex16(p.ip.checksum.value_or(0)) + "]";
  if (!p.tcp_checksum_ok) {
    s += " [bad tcp cksum " + hex16(t.checksum.value_or(0)) + " (correct " +
         hex16(correct_tcp_checksum(p)) + ")]";
  }
  return s;
}

std::string format_icmp(const IcmpPacket& p) {
  const IcmpMessage& m = p.icmp;
  std::string s = p.ip.src.to_string() + " > " + p.ip.dst.to_string() + ": ICMP " +
                  icmp_type_name(m.type) + " " + icmp_code_name(m.type, m.code);
  if (m.type == icmp_type::kDestinationUnreachable && m.code == icmp_unreachable::kFragNeeded) {
    s += " mtu " + std::to_string(m.rest & 0xffffU);
  }
  // The quoted datagram: its addresses and, for TCP, ports and sequence number (RFC 792: the
  // IP header and 8 bytes of data, so the whole quoted datagram is never there to parse).
  const ByteSpan q = m.body;
  if (q.size() >= kIpv4MinHeader && (q[0] >> 4) == 4) {
    const std::size_t ihl = std::size_t{q[0] & 0x0fU} * 4;
    s += ", quoting " + Ipv4Addr{load_be32(q, 12)}.to_string();
    const bool tcp = q[9] == kIpProtoTcp && ihl >= kIpv4MinHeader && q.size() >= ihl + 8;
    if (tcp) s += "." + std::to_string(load_be16(q, ihl));
    s += " > " + Ipv4Addr{load_be32(q, 16)}.to_string();
    if (tcp) {
      s += "." + std::to_string(load_be16(q, ihl + 2)) + " seq " +
           std::to_string(load_be32(q, ihl + 4));
    }
  }
  s += ", length " + std::to_string(kIcmpHeader + m.body.size());
  if (!p.ip_checksum_ok) s += " [bad ip cksum " + hex16(p.ip.checksum.value_or(0)) + "]";
  if (!p.icmp_checksum_ok) s += " [bad icmp cksum " + hex16(m.checksum.value_or(0)) + "]";
  return s;
}

std::string format_arp(const ArpPacket& a) {
  std::string s = "ARP, ";
  if (a.op == arp_op::kRequest) {
    s += "Request who-has " + a.target_ip.to_string() + " tell " + a.sender_ip.to_string();
  } else if (a.op == arp_op::kReply) {
    s += "Reply " + a.sender_ip.to_string() + " is-at " + a.sender_mac.to_string();
  } else {
    s += "op " + std::to_string(a.op) + " " + a.sender_ip.to_string() + " (" +
         a.sender_mac.to_string() + ") > " + a.target_ip.to_string();
  }
  return s + ", length " + std::to_string(kArpEthernetIpv4Length);
}

std::string format_ipv4(ByteSpan packet) {
  auto tcp = parse_tcp_packet(packet);
  if (tcp) return format_tcp(*tcp);
  const ParseError& e = tcp.error();
  std::string prefix;
  auto ip = parse_ipv4(packet);
  if (ip) {
    prefix = ip->header.src.to_string() + " > " + ip->header.dst.to_string() + ": ";
    if (e.code == WireError::kNotTcp && ip->header.protocol == kIpProtoIcmp) {
      if (auto icmp = parse_icmp_packet(packet)) return format_icmp(*icmp);
    }
    if (e.code == WireError::kNotTcp) {
      return prefix + "ip-proto-" + std::to_string(ip->header.protocol) + ", length " +
             std::to_string(ip->payload.size());
    }
    if (e.code == WireError::kFragmented) {
      return prefix + "fragment id " + std::to_string(ip->header.id) + " offset " +
             std::to_string(ip->header.fragment_offset * 8U) +
             ((ip->header.flags & kIpFlagMoreFragments) != 0 ? " (more)" : "") + ", length " +
             std::to_string(ip->payload.size());
    }
  }
  return prefix + "[malformed: " + e.message() + "]";
}

std::string format_frame(LinkType type, ByteSpan frame) {
  switch (type) {
    case LinkType::kRaw:
      return format_ipv4(frame);
    case LinkType::kEthernet: {
      auto eth = parse_ethernet(frame);
      if (!eth) return "[malformed: " + eth.error().message() + "]";
      if (eth->header.ethertype == ethertype::kIpv4) return format_ipv4(eth->payload);
      if (eth->header.ethertype == ethertype::kArp) {
        auto arp = parse_arp(eth->payload);
        return arp ? format_arp(*arp) : "ARP [malformed: " + arp.error().message() + "]";
      }
      return eth->header.src.to_string() + " > " + eth->header.dst.to_string() + ", ethertype " +
             hex16(eth->header.ethertype) + ", length " + std::to_string(frame.size());
    }
    case LinkType::kLinuxSll:
    case LinkType::kLinuxSll2: {
      // SLL: protocol at offset 14 of a 16-byte header; SLL2: at offset 0 of a 20-byte header.
      const bool v2 = type == LinkType::kLinuxSll2;
      const std::size_t header = v2 ? 20 : 16;
      if (frame.size() < header) return "[malformed: truncated cooked header]";
      const std::uint16_t proto = load_be16(frame, v2 ? 0 : 14);
      const ByteSpan payload = frame.subspan(header);
      if (proto == ethertype::kIpv4) return format_ipv4(payload);
      if (proto == ethertype::kArp) {
        auto arp = parse_arp(payload);
        return arp ? format_arp(*arp) : "ARP [malformed: " + arp.error().message() + "]";
      }
      return "protocol " + hex16(proto) + ", length " + std::to_string(payload.size());
    }
    case LinkType::kNull: {
      // A 4-byte address family in the capturing host's byte order; AF_INET is 2 everywhere.
      if (frame.size() < 4) return "[malformed: truncated loopback header]";
      const bool inet = (frame[0] == 2 && frame[3] == 0) || (frame[0] == 0 && frame[3] == 2);
      if (inet) return format_ipv4(frame.subspan(4));
      return "loopback family " + hex_string(frame.first(4)) + ", length " +
             std::to_string(frame.size() - 4);
    }
  }
  return "[unknown link type]";
}

}  // namespace synack::wire
