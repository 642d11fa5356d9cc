#include "harness/wire/result.h"

namespace synack::wire {

const char* to_code(WireError e) {
  switch (e) {
    case WireError::kTruncated:
      return "truncated";
    case WireError::kBadVersion:
      return "bad_version";
    case WireError::kBadIhl:
      return "bad_ihl";
    case WireError::kBadTotalLength:
      return "bad_total_length";
    case WireError::kNotTcp:
      return "not_tcp";
    case WireError::kFragmented:
      return "fragmented";
    case WireError::kBadDataOffset:
      return "bad_data_offset";
    case WireError::kOptionOverrun:
      return "option_overrun";
    case WireError::kOptionLength:
      return "option_length";
    case WireError::kBadEthernet:
      return "bad_ethernet";
    case WireError::kUnsupportedArp:
      return "unsupported_arp";
    case WireError::kNotIcmp:
      return "not_icmp";
  }
  return "unknown";
}

const char* describe(WireError e) {
  switch (e) {
    case WireError::kTruncated:
      return "truncated";
    case WireError::kBadVersion:
      return "IP version is not 4";
    case WireError::kBadIhl:
      return "IPv4 header length below 20 bytes";
    case WireError::kBadTotalLength:
      return "IPv4 total length shorter than its header";
    case WireError::kNotTcp:
      return "not TCP";
    case WireError::kFragmented:
      return "IP fragment";
    case WireError::kBadDataOffset:
      return "bad TCP data offset";
    case WireError::kOptionOverrun:
      return "TCP option runs past the header";
    case WireError::kOptionLength:
      return "TCP option length below 2";
    case WireError::kBadEthernet:
      return "Ethernet frame shorter than 14 bytes";
    case WireError::kUnsupportedArp:
      return "ARP is not Ethernet/IPv4";
    case WireError::kNotIcmp:
      return "not ICMP";
  }
  return "unknown error";
}

std::string ParseError::message() const {
  std::string m = describe(code);
  m += " at byte ";
  m += std::to_string(offset);
  if (!detail.empty()) {
    m += ": ";
    m += detail;
  }
  return m;
}

}  // namespace synack::wire
