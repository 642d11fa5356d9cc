#include "stack/wire/icmp.h"

#include <cstddef>

#include "stack/wire/bytes.h"
#include "stack/wire/checksum.h"

namespace synack::stack {
namespace {

using wire::get16;
using wire::get32;

// RFC 792: type, code, checksum, then a 32-bit word whose meaning depends on the type.
constexpr std::size_t kType = 0;
constexpr std::size_t kCode = 1;
constexpr std::size_t kRest = 4;
constexpr std::size_t kHeader = 8;

// The quoted IPv4 header (RFC 791 3.1) and the first 8 octets after it.
constexpr std::size_t kQuotedVersionIhl = 0;
constexpr std::size_t kQuotedFlagsFragment = 6;
constexpr std::size_t kQuotedProtocol = 9;
constexpr std::size_t kQuotedSrc = 12;
constexpr std::size_t kQuotedDst = 16;
constexpr std::size_t kQuotedMinHeader = 20;
constexpr std::size_t kQuotedTransport = 8;  // "the first 64 bits of the original data"
constexpr std::uint16_t kFragmentOffsetMask = 0x1fff;

bool is_error_type(std::uint8_t type) {
  return type == icmp_type::kDestinationUnreachable || type == icmp_type::kSourceQuench ||
         type == icmp_type::kRedirect || type == icmp_type::kTimeExceeded ||
         type == icmp_type::kParameterProblem;
}

}  // namespace

IcmpStatus parse_icmp(std::span<const std::uint8_t> message, IcmpMessage& out) {
  out = IcmpMessage{};
  if (message.size() < kHeader) return IcmpStatus::kMalformed;
  out.type = message[kType];
  out.code = message[kCode];
  out.rest = get32(message, kRest);
  out.is_error = is_error_type(out.type);
  if (out.is_error) {
    // The quote may be cut anywhere after the first 8 octets of the datagram, so its total
    // length field is not checked against what is there.
    const auto quote = message.subspan(kHeader);
    if (quote.size() < kQuotedMinHeader) return IcmpStatus::kMalformed;
    const std::uint8_t version_ihl = quote[kQuotedVersionIhl];
    const std::size_t ihl = std::size_t{version_ihl & 0x0fU} * 4;
    if ((version_ihl >> 4) != 4 || ihl < kQuotedMinHeader ||
        quote.size() < ihl + kQuotedTransport) {
      return IcmpStatus::kMalformed;
    }
    out.quoted_src = get32(quote, kQuotedSrc);
    out.quoted_dst = get32(quote, kQuotedDst);
    out.quoted_protocol = quote[kQuotedProtocol];
    out.quoted_first_fragment = (get16(quote, kQuotedFlagsFragment) & kFragmentOffsetMask) == 0;
    const auto transport = quote.subspan(ihl, kQuotedTransport);
    out.quoted_src_port = get16(transport, 0);
    out.quoted_dst_port = get16(transport, 2);
    out.quoted_seq = get32(transport, 4);
  }
  // RFC 792: the checksum covers the whole ICMP message.
  if (internet_checksum(message) != 0) return IcmpStatus::kBadChecksum;
  return IcmpStatus::kOk;
}

}  // namespace synack::stack
