#include "harness/wire/tcp.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "harness/wire/checksum.h"

namespace synack::wire {
namespace {

// Field offsets in the fixed TCP header (RFC 9293 section 3.1, figure 1).
constexpr std::size_t kSrcPort = 0;
constexpr std::size_t kDstPort = 2;
constexpr std::size_t kSeq = 4;
constexpr std::size_t kAck = 8;
constexpr std::size_t kDataOffset = 12;  // high nibble; low nibble is reserved
constexpr std::size_t kFlags = 13;
constexpr std::size_t kWindow = 14;
constexpr std::size_t kChecksum = 16;
constexpr std::size_t kUrgentPointer = 18;

// Wire lengths of the options this codec decodes.
constexpr std::size_t kMssLength = 4;
constexpr std::size_t kWindowScaleLength = 3;
constexpr std::size_t kSackPermittedLength = 2;
constexpr std::size_t kTimestampsLength = 10;
constexpr std::size_t kSackBlockLength = 8;

TcpOption decode_option(std::uint8_t kind, ByteSpan data) {
  namespace k = tcp_option_kind;
  const std::size_t len = data.size() + 2;
  switch (kind) {
    case k::kMss:
      if (len == kMssLength) return OptMss{load_be16(data, 0)};
      break;
    case k::kWindowScale:
      if (len == kWindowScaleLength) return OptWindowScale{data[0]};
      break;
    case k::kSackPermitted:
      if (len == kSackPermittedLength) return OptSackPermitted{};
      break;
    case k::kSack:
      if (data.size() % kSackBlockLength == 0) {
        OptSack sack;
        for (std::size_t i = 0; i < data.size(); i += kSackBlockLength) {
          sack.blocks.push_back({Seq(load_be32(data, i)), Seq(load_be32(data, i + 4))});
        }
        return sack;
      }
      break;
    case k::kTimestamps:
      if (len == kTimestampsLength) return OptTimestamps{load_be32(data, 0), load_be32(data, 4)};
      break;
    default:
      break;
  }
  return OptRaw{kind, Bytes(data.begin(), data.end())};
}

}  // namespace

void emit_option(const TcpOption& option, Bytes& out) {
  namespace k = tcp_option_kind;
  struct Emitter {
    Bytes& out;
    void operator()(const OptEol&) const { out.push_back(k::kEol); }
    void operator()(const OptNop&) const { out.push_back(k::kNop); }
    void operator()(const OptMss& o) const {
      out.insert(out.end(), {k::kMss, kMssLength});
      append_be16(out, o.mss);
    }
    void operator()(const OptWindowScale& o) const {
      out.insert(out.end(), {k::kWindowScale, kWindowScaleLength, o.shift});
    }
    void operator()(const OptSackPermitted&) const {
      out.insert(out.end(), {k::kSackPermitted, kSackPermittedLength});
    }
    void operator()(const OptSack& o) const {
      const std::size_t len = 2 + kSackBlockLength * o.blocks.size();
      if (len > 2 + kTcpMaxOptions) {
        throw std::length_error(std::to_string(o.blocks.size()) + " SACK blocks do not fit");
      }
      out.insert(out.end(), {k::kSack, static_cast<std::uint8_t>(len)});
      for (const SackBlock& b : o.blocks) {
        append_be32(out, b.left.raw());
        append_be32(out, b.right.raw());
      }
    }
    void operator()(const OptTimestamps& o) const {
      out.insert(out.end(), {k::kTimestamps, kTimestampsLength});
      append_be32(out, o.val);
      append_be32(out, o.ecr);
    }
    void operator()(const OptRaw& o) const {
      if (o.data.size() + 2 > 0xff) {
        throw std::length_error("option kind " + std::to_string(o.kind) + " has " +
                                std::to_string(o.data.size()) + " data bytes; at most 253 fit");
      }
      out.insert(out.end(), {o.kind, static_cast<std::uint8_t>(o.data.size() + 2)});
      out.insert(out.end(), o.data.begin(), o.data.end());
    }
  };
  std::visit(Emitter{out}, option);
}

std::uint8_t option_kind(const TcpOption& o) {
  namespace k = tcp_option_kind;
  struct Kind {
    std::uint8_t operator()(const OptEol&) const { return k::kEol; }
    std::uint8_t operator()(const OptNop&) const { return k::kNop; }
    std::uint8_t operator()(const OptMss&) const { return k::kMss; }
    std::uint8_t operator()(const OptWindowScale&) const { return k::kWindowScale; }
    std::uint8_t operator()(const OptSackPermitted&) const { return k::kSackPermitted; }
    std::uint8_t operator()(const OptSack&) const { return k::kSack; }
    std::uint8_t operator()(const OptTimestamps&) const { return k::kTimestamps; }
    std::uint8_t operator()(const OptRaw& r) const { return r.kind; }
  };
  return std::visit(Kind{}, o);
}

std::size_t option_wire_length(const TcpOption& o) {
  struct Length {
    std::size_t operator()(const OptEol&) const { return 1; }
    std::size_t operator()(const OptNop&) const { return 1; }
    std::size_t operator()(const OptMss&) const { return kMssLength; }
    std::size_t operator()(const OptWindowScale&) const { return kWindowScaleLength; }
    std::size_t operator()(const OptSackPermitted&) const { return kSackPermittedLength; }
    std::size_t operator()(const OptSack& s) const {
      return 2 + kSackBlockLength * s.blocks.size();
    }
    std::size_t operator()(const OptTimestamps&) const { return kTimestampsLength; }
    std::size_t operator()(const OptRaw& r) const { return 2 + r.data.size(); }
  };
  return std::visit(Length{}, o);
}

std::size_t TcpHeader::emitted_option_length() const {
  std::size_t n = option_padding.size();
  for (const auto& o : options) n += option_wire_length(o);
  return (n + 3) / 4 * 4;
}

std::uint32_t TcpPacket::segment_length() const {
  return static_cast<std::uint32_t>(payload.size()) + (tcp.has(tcp_flags::kSyn) ? 1U : 0U) +
         (tcp.has(tcp_flags::kFin) ? 1U : 0U);
}

std::optional<ParseError> parse_tcp_options(ByteSpan space, std::size_t base, Bytes* padding,
                                            std::vector<TcpOption>& options) {
  // RFC 9293 3.1: an option is a single kind octet (EOL, NOP) or kind, length, data, where the
  // length counts kind and length. MUST-7: an illegal length must not crash the receiver, so it
  // is a typed error here; the harness decides what to do with it.
  options.clear();
  options.reserve(std::min<std::size_t>(space.size(), 8));  // a SYN's usual five, and then some
  std::size_t i = 0;
  while (i < space.size()) {
    const std::uint8_t kind = space[i];
    if (kind == tcp_option_kind::kEol) {
      options.emplace_back(OptEol{});
      if (padding != nullptr) {
        padding->assign(space.begin() + static_cast<std::ptrdiff_t>(i + 1), space.end());
      }
      return std::nullopt;
    }
    if (kind == tcp_option_kind::kNop) {
      options.emplace_back(OptNop{});
      ++i;
      continue;
    }
    if (i + 1 >= space.size()) {
      return ParseError{WireError::kOptionOverrun, base + i,
                        "option kind " + std::to_string(kind) + " has no length byte"};
    }
    const std::size_t len = space[i + 1];
    if (len < 2) {
      return ParseError{
          WireError::kOptionLength, base + i + 1,
          "option kind " + std::to_string(kind) + " announces length " + std::to_string(len)};
    }
    if (i + len > space.size()) {
      return ParseError{WireError::kOptionOverrun, base + i,
                        "option kind " + std::to_string(kind) + " announces " +
                            std::to_string(len) + " bytes, " + std::to_string(space.size() - i) +
                            " left in the header"};
    }
    options.push_back(decode_option(kind, space.subspan(i + 2, len - 2)));
    i += len;
  }
  if (padding != nullptr) padding->clear();
  return std::nullopt;
}

Result<std::vector<TcpOption>> parse_tcp_options(ByteSpan space, std::size_t base, Bytes* padding) {
  std::vector<TcpOption> options;
  if (auto error = parse_tcp_options(space, base, padding, options)) return std::move(*error);
  return options;
}

std::optional<ParseError> parse_tcp_packet(ByteSpan packet, TcpPacket& p) {
  Result<Ipv4View> ip = parse_ipv4(packet);
  if (!ip) return ip.error();
  const Ipv4View& v = *ip;
  if (v.header.protocol != kIpProtoTcp) {
    return ParseError{WireError::kNotTcp, 9, "protocol " + std::to_string(v.header.protocol)};
  }
  if ((v.header.flags & kIpFlagMoreFragments) != 0 || v.header.fragment_offset != 0) {
    return ParseError{WireError::kFragmented, 6,
                      "fragment offset " + std::to_string(v.header.fragment_offset) +
                          ((v.header.flags & kIpFlagMoreFragments) != 0 ? ", MF set" : "")};
  }
  const ByteSpan seg = v.payload;
  const std::size_t at = v.header_length;  // offset of the TCP header in the packet
  if (seg.size() < kTcpMinHeader) {
    return ParseError{WireError::kTruncated, at + seg.size(),
                      "TCP header needs 20 bytes, have " + std::to_string(seg.size())};
  }
  const std::size_t data_offset = seg[kDataOffset] >> 4;
  const std::size_t header_length = data_offset * 4;
  if (data_offset < 5 || header_length > seg.size()) {
    return ParseError{WireError::kBadDataOffset, at + kDataOffset,
                      "data offset " + std::to_string(data_offset) + " words, segment is " +
                          std::to_string(seg.size()) + " bytes"};
  }

  p.ip = v.header;
  p.ip_checksum_ok = v.checksum_ok;
  TcpHeader& t = p.tcp;
  if (auto error = parse_tcp_options(seg.subspan(kTcpMinHeader, header_length - kTcpMinHeader),
                                     at + kTcpMinHeader, &t.option_padding, t.options)) {
    return error;
  }
  t.src_port = load_be16(seg, kSrcPort);
  t.dst_port = load_be16(seg, kDstPort);
  t.seq = Seq(load_be32(seg, kSeq));
  t.ack = Seq(load_be32(seg, kAck));
  t.data_offset = static_cast<std::uint8_t>(data_offset);
  t.reserved = seg[kDataOffset] & 0x0fU;
  t.flags = seg[kFlags];
  t.window = load_be16(seg, kWindow);
  t.checksum = load_be16(seg, kChecksum);
  t.urgent_pointer = load_be16(seg, kUrgentPointer);
  p.payload.assign(seg.begin() + static_cast<std::ptrdiff_t>(header_length), seg.end());

  ChecksumAccumulator acc;
  add_ipv4_pseudo_header(acc, p.ip.src.value, p.ip.dst.value, kIpProtoTcp,
                         static_cast<std::uint16_t>(seg.size()));
  acc.add(seg);
  p.tcp_checksum_ok = acc.finish() == 0;
  return std::nullopt;
}

Result<TcpPacket> parse_tcp_packet(ByteSpan packet) {
  TcpPacket p;
  if (auto error = parse_tcp_packet(packet, p)) return std::move(*error);
  return p;
}

void emit(const TcpPacket& p, Bytes& out) {
  const TcpHeader& t = p.tcp;
  // One buffer: room for the IP header, then the segment, then the IP header written last
  // (it needs the segment's length). On an error `out` is left as it was.
  const std::size_t start = out.size();
  const std::size_t ip_length = p.ip.emitted_header_length();
  const std::size_t tcp = start + ip_length;
  out.reserve(tcp + kTcpMinHeader + kTcpMaxOptions + t.option_padding.size() + p.payload.size());
  out.resize(tcp + kTcpMinHeader, 0);
  try {
    for (const auto& o : t.options) emit_option(o, out);
    out.insert(out.end(), t.option_padding.begin(), t.option_padding.end());
    out.resize(tcp + (out.size() - tcp + 3) / 4 * 4, 0);  // zero (EOL) fill to 32 bits
    const std::size_t header_length = out.size() - tcp;
    if (header_length - kTcpMinHeader > kTcpMaxOptions) {
      throw std::length_error("TCP options are " + std::to_string(header_length - kTcpMinHeader) +
                              " bytes; at most 40 fit");
    }
    out.insert(out.end(), p.payload.begin(), p.payload.end());
    const std::size_t seg_length = out.size() - tcp;
    if (seg_length > 0xffff - kIpv4MaxHeader) {
      throw std::length_error("TCP segment of " + std::to_string(seg_length) +
                              " bytes does not fit in an IPv4 packet");
    }
    const std::span<std::uint8_t> seg = std::span<std::uint8_t>(out).subspan(tcp);
    store_be16(seg, kSrcPort, t.src_port);
    store_be16(seg, kDstPort, t.dst_port);
    store_be32(seg, kSeq, t.seq.raw());
    store_be32(seg, kAck, t.ack.raw());
    const std::uint8_t data_offset =
        t.data_offset.value_or(static_cast<std::uint8_t>(header_length / 4));
    seg[kDataOffset] =
        static_cast<std::uint8_t>(((data_offset & 0x0fU) << 4) | (t.reserved & 0x0fU));
    seg[kFlags] = t.flags;
    store_be16(seg, kWindow, t.window);
    store_be16(seg, kUrgentPointer, t.urgent_pointer);
    // The pseudo-header uses ip.dst. With a source-route IP option RFC 9293 3.1 wants the final
    // destination instead; the harness never sends source-routed segments, so that is left out.
    std::uint16_t checksum = 0;
    if (t.checksum) {
      checksum = *t.checksum;
    } else {
      ChecksumAccumulator acc;
      add_ipv4_pseudo_header(acc, p.ip.src.value, p.ip.dst.value, kIpProtoTcp,
                             static_cast<std::uint16_t>(seg_length));
      acc.add(seg);
      checksum = acc.finish();
    }
    store_be16(seg, kChecksum, checksum);
    write_ipv4_header(p.ip, seg_length, std::span<std::uint8_t>(out).subspan(start, ip_length));
  } catch (...) {
    out.resize(start);
    throw;
  }
}

Bytes emit(const TcpPacket& p) {
  Bytes out;
  emit(p, out);
  return out;
}

}  // namespace synack::wire
