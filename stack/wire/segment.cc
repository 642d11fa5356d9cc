#include "stack/wire/segment.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"

namespace synack::stack {
namespace {

using ConstBytes = std::span<const std::uint8_t>;
using MutableBytes = std::span<std::uint8_t>;

// Field offsets in the fixed IPv4 header (RFC 791 section 3.1) that emission writes.
constexpr std::size_t kIpVersionIhl = 0;
constexpr std::size_t kIpTos = 1;
constexpr std::size_t kIpTotalLength = 2;
constexpr std::size_t kIpFlagsFragment = 6;
constexpr std::size_t kIpTtl = 8;
constexpr std::size_t kIpProtocol = 9;
constexpr std::size_t kIpChecksum = 10;
constexpr std::size_t kIpSrc = 12;
constexpr std::size_t kIpDst = 16;
constexpr std::size_t kIpMinHeader = 20;

constexpr std::uint8_t kIpVersionIhlNoOptions = 0x45;  // version 4, IHL 5
constexpr std::uint16_t kIpFlagDontFragment = 0x4000;  // RFC 791 section 3.1, flags bit 1

// Field offsets in the fixed TCP header (RFC 9293 section 3.1, figure 1).
constexpr std::size_t kTcpSrcPort = 0;
constexpr std::size_t kTcpDstPort = 2;
constexpr std::size_t kTcpSeq = 4;
constexpr std::size_t kTcpAck = 8;
constexpr std::size_t kTcpDataOffset = 12;  // high nibble, in 32-bit words
constexpr std::size_t kTcpFlags = 13;
constexpr std::size_t kTcpWindow = 14;
constexpr std::size_t kTcpChecksum = 16;
constexpr std::size_t kTcpUrgentPointer = 18;
constexpr std::size_t kTcpMinHeader = 20;
constexpr std::size_t kTcpMaxOptionSpace = 40;  // data offset is at most 15 words

// Option kinds (RFC 9293 section 3.1, RFC 7323, RFC 2018) and the lengths the stack decodes.
constexpr std::uint8_t kOptEol = 0;
constexpr std::uint8_t kOptNop = 1;
constexpr std::uint8_t kOptMss = 2;
constexpr std::uint8_t kOptWindowScale = 3;
constexpr std::uint8_t kOptSackPermitted = 4;
constexpr std::uint8_t kOptSack = 5;
constexpr std::uint8_t kOptTimestamps = 8;

constexpr std::size_t kOptMssLength = 4;
constexpr std::size_t kOptWindowScaleLength = 3;
constexpr std::size_t kOptSackPermittedLength = 2;
constexpr std::size_t kOptTimestampsLength = 10;
constexpr std::size_t kOptSackBaseLength = 2;
constexpr std::size_t kSackBlockLength = 8;
constexpr std::size_t kMaxSackBlocks = 4;

using wire::get16;
using wire::get32;
using wire::set16;
using wire::set32;

// The option space being built: at most 40 bytes, so it lives on the stack, not the heap.
struct OptionBytes {
  std::array<std::uint8_t, 40> bytes{};
  std::size_t size = 0;
  const std::uint8_t* begin() const { return bytes.data(); }
  const std::uint8_t* end() const { return bytes.data() + size; }
};

void push_bytes(OptionBytes& out, std::initializer_list<std::uint8_t> bytes) {
  for (std::uint8_t b : bytes) out.bytes.at(out.size++) = b;
}

void push16(OptionBytes& out, std::uint16_t v) {
  push_bytes(out, {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v & 0xff)});
}

void push32(OptionBytes& out, std::uint32_t v) {
  push16(out, static_cast<std::uint16_t>(v >> 16));
  push16(out, static_cast<std::uint16_t>(v & 0xffff));
}

constexpr std::uint8_t as_byte(std::size_t v) { return static_cast<std::uint8_t>(v); }

// Records one option whose kind and length byte are already validated; `body` is what follows
// the length byte. A known kind with the wrong length is ignored, as is an unknown kind (RFC 9293
// section 3.1, MUST-6). A later copy of an option replaces an earlier one.
void decode_option(std::uint8_t kind, ConstBytes body, TcpOptions& out) {
  const std::size_t length = body.size() + 2;
  switch (kind) {
    case kOptMss:
      if (length == kOptMssLength) out.mss = get16(body, 0);
      break;
    case kOptWindowScale:
      if (length == kOptWindowScaleLength) out.wscale = body[0];
      break;
    case kOptSackPermitted:
      if (length == kOptSackPermittedLength) out.sack_permitted = true;
      break;
    case kOptTimestamps:
      if (length == kOptTimestampsLength) {
        out.timestamps = Timestamps{get32(body, 0), get32(body, 4)};
      }
      break;
    case kOptSack: {
      const std::size_t blocks = body.size() / kSackBlockLength;
      if (body.size() % kSackBlockLength != 0 || blocks == 0 || blocks > kMaxSackBlocks) break;
      out.sack.clear();
      for (std::size_t i = 0; i < body.size(); i += kSackBlockLength) {
        out.sack.push_back({SeqNum(get32(body, i)), SeqNum(get32(body, i + 4))});
      }
      break;
    }
    default:
      break;
  }
}

// Walks the option space strictly (RFC 9293 section 3.1): EOL ends the list, NOP is one byte,
// every other kind has a length byte that counts kind and length, is at least 2 and stays inside
// the header. MUST-7: an illegal length is reported, never read past. Returns false on any
// violation.
bool parse_options(ConstBytes space, TcpOptions& out) {
  std::size_t at = 0;
  while (at < space.size()) {
    const std::uint8_t kind = space[at];
    if (kind == kOptEol) return true;  // the rest is padding
    if (kind == kOptNop) {
      ++at;
      continue;
    }
    if (at + 1 >= space.size()) return false;  // no room for the length byte
    const std::size_t length = space[at + 1];
    if (length < 2 || length > space.size() - at) return false;
    decode_option(kind, space.subspan(at + 2, length - 2), out);
    at += length;
  }
  return true;
}

// The option bytes in Linux's layout (net/ipv4/tcp_output.c, tcp_options_write): every option is
// packed into whole 32-bit words with leading NOPs, so the result is always a multiple of 4:
//   MSS                 02 04 mss
//   sackOK + TS         04 02 08 0a val ecr      (TS alone: 01 01 08 0a val ecr)
//   sackOK without TS   01 01 04 02
//   window scale        01 03 03 ws
//   SACK blocks         01 01 05 len blocks...
// SACK blocks that do not fit in the 40 bytes of option space are dropped from the end, as Linux
// does (with timestamps, three blocks fit; in a full SYN, two).
OptionBytes encode_options(const TcpOptions& o) {
  OptionBytes out;
  if (o.mss) {
    push_bytes(out, {kOptMss, as_byte(kOptMssLength)});
    push16(out, *o.mss);
  }
  if (o.timestamps) {
    if (o.sack_permitted) {
      push_bytes(out, {kOptSackPermitted, as_byte(kOptSackPermittedLength)});
    } else {
      push_bytes(out, {kOptNop, kOptNop});
    }
    push_bytes(out, {kOptTimestamps, as_byte(kOptTimestampsLength)});
    push32(out, o.timestamps->val);
    push32(out, o.timestamps->ecr);
  } else if (o.sack_permitted) {
    push_bytes(out, {kOptNop, kOptNop, kOptSackPermitted, as_byte(kOptSackPermittedLength)});
  }
  if (o.wscale) {
    push_bytes(out, {kOptNop, kOptWindowScale, as_byte(kOptWindowScaleLength), *o.wscale});
  }
  // Two NOPs, kind and length, then the blocks.
  const std::size_t room = kTcpMaxOptionSpace - out.size;
  const std::size_t fit = room < 4 ? 0 : (room - 4) / kSackBlockLength;
  const std::size_t blocks = std::min({o.sack.size(), kMaxSackBlocks, fit});
  if (blocks > 0) {
    push_bytes(
        out, {kOptNop, kOptNop, kOptSack, as_byte(kOptSackBaseLength + blocks * kSackBlockLength)});
    for (std::size_t i = 0; i < blocks; ++i) {
      push32(out, o.sack[i].left.value());
      push32(out, o.sack[i].right.value());
    }
  }
  return out;
}

}  // namespace

// Checks run in the order the layers are peeled: the IPv4 header's structure and options
// (kMalformed), its protocol (kNotTcp), fragmentation (kMalformed), the TCP header's structure and
// options (kMalformed). Only a packet that parses completely is checked against its checksums,
// so on kBadChecksum `out` holds the whole (untrustworthy) segment, useful for logging.
ParseStatus parse_segment(std::span<const std::uint8_t> ip_packet, Segment& out) {
  Ipv4Packet ip;
  if (parse_ipv4(ip_packet, ip) != Ipv4Status::kOk) {
    out = Segment{};
    return ParseStatus::kMalformed;
  }
  return parse_segment(ip, out);
}

ParseStatus parse_segment(const Ipv4Packet& ip, Segment& out) {
  // Every field reset, the payload's and the SACK blocks' buffers kept for this parse.
  std::vector<std::uint8_t> payload_buffer = std::move(out.payload);
  std::vector<SackBlock> sack_buffer = std::move(out.options.sack);
  out = Segment{};
  payload_buffer.clear();
  sack_buffer.clear();
  out.payload = std::move(payload_buffer);
  out.options.sack = std::move(sack_buffer);
  if (ip.protocol != ip_proto::kTcp) return ParseStatus::kNotTcp;
  // The stack does no reassembly (RFC 791 section 3.2); a fragment cannot be a whole segment.
  if (ip.fragment) return ParseStatus::kMalformed;
  out.src_addr = ip.src_addr;
  out.dst_addr = ip.dst_addr;
  out.tos = ip.tos;
  out.ttl = ip.ttl;

  // Whatever options the IPv4 header carried, the segment starts after it (MUST-50).
  const ConstBytes tcp = ip.payload;
  if (tcp.size() < kTcpMinHeader) return ParseStatus::kMalformed;
  const std::size_t tcp_header_length = static_cast<std::size_t>(tcp[kTcpDataOffset] >> 4) * 4;
  if (tcp_header_length < kTcpMinHeader || tcp_header_length > tcp.size()) {
    return ParseStatus::kMalformed;
  }
  out.src_port = get16(tcp, kTcpSrcPort);
  out.dst_port = get16(tcp, kTcpDstPort);
  out.seq = SeqNum(get32(tcp, kTcpSeq));
  out.ack = SeqNum(get32(tcp, kTcpAck));
  out.flags = tcp[kTcpFlags];
  out.window = get16(tcp, kTcpWindow);
  out.urgent_pointer = get16(tcp, kTcpUrgentPointer);
  if (!parse_options(tcp.subspan(kTcpMinHeader, tcp_header_length - kTcpMinHeader), out.options)) {
    return ParseStatus::kMalformed;
  }
  const ConstBytes payload = tcp.subspan(tcp_header_length);
  out.payload.assign(payload.begin(), payload.end());

  // The pseudo-header holds the addresses of the IPv4 header, never anything from its options
  // (RFC 9293 3.1).
  const bool tcp_checksum_ok = tcp_checksum(out.src_addr, out.dst_addr, tcp) == 0;
  return ip.checksum_ok && tcp_checksum_ok ? ParseStatus::kOk : ParseStatus::kBadChecksum;
}

std::vector<std::uint8_t> emit_segment(const Segment& s) { return emit_segment(s, s.payload); }

std::vector<std::uint8_t> emit_segment(const Segment& s, std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  emit_segment(s, payload, out);
  return out;
}

void emit_segment(const Segment& s, std::span<const std::uint8_t> payload,
                  std::vector<std::uint8_t>& out) {
  const OptionBytes options = encode_options(s.options);
  const std::size_t tcp_header_length = kTcpMinHeader + options.size;
  const std::size_t total_length = kIpMinHeader + tcp_header_length + payload.size();
  if (total_length > 0xffff) {
    throw std::length_error("segment of " + std::to_string(total_length) +
                            " bytes does not fit in an IPv4 packet");
  }
  // Headers zeroed, the payload copied once (no zero fill under it), one allocation at most.
  out.reserve(total_length);
  out.assign(kIpMinHeader + tcp_header_length, 0);
  out.insert(out.end(), payload.begin(), payload.end());
  const MutableBytes ip = MutableBytes(out).first(kIpMinHeader);
  const MutableBytes tcp = MutableBytes(out).subspan(kIpMinHeader);

  // IPv4 (RFC 791 section 3.1): identification and fragment offset stay zero. Id 0 with DF is
  // what Linux sends for a connected TCP socket (RFC 6864 section 4.1: the id of an atomic
  // datagram has no meaning). TOS and TTL are the connection's (MUST-48, MUST-49).
  ip[kIpVersionIhl] = kIpVersionIhlNoOptions;
  ip[kIpTos] = s.tos;
  set16(ip, kIpTotalLength, static_cast<std::uint16_t>(total_length));
  set16(ip, kIpFlagsFragment, kIpFlagDontFragment);
  ip[kIpTtl] = s.ttl;
  ip[kIpProtocol] = ip_proto::kTcp;
  set32(ip, kIpSrc, s.src_addr);
  set32(ip, kIpDst, s.dst_addr);
  set16(ip, kIpChecksum, internet_checksum(ip));

  // TCP (RFC 9293 section 3.1); the reserved bits stay zero.
  set16(tcp, kTcpSrcPort, s.src_port);
  set16(tcp, kTcpDstPort, s.dst_port);
  set32(tcp, kTcpSeq, s.seq.value());
  set32(tcp, kTcpAck, s.ack.value());
  tcp[kTcpDataOffset] = static_cast<std::uint8_t>((tcp_header_length / 4) << 4);
  tcp[kTcpFlags] = s.flags;
  set16(tcp, kTcpWindow, s.window);
  set16(tcp, kTcpUrgentPointer, s.urgent_pointer);
  std::copy(options.begin(), options.end(), tcp.begin() + kTcpMinHeader);
  set16(tcp, kTcpChecksum, tcp_checksum(s.src_addr, s.dst_addr, tcp));
}

}  // namespace synack::stack
