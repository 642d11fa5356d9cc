// wire_fuzzer: the harness codec takes any bytes without crashing, and everything it parses
// survives parse -> emit -> parse byte-exact; rebuilt with fresh lengths and checksums it parses
// again with both checksums valid.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "harness/wire/ethernet.h"
#include "harness/wire/format.h"
#include "harness/wire/tcp.h"

namespace {

using namespace synack::wire;

[[noreturn]] void fail(const char* what, ByteSpan input) {
  std::fprintf(stderr, "wire_fuzzer: %s\ninput: %s\n", what, format_ipv4(input).c_str());
  std::abort();
}

void check_tcp(ByteSpan in) {
  auto parsed = parse_tcp_packet(in);
  if (!parsed) {
    // An error must point inside (or just past) the buffer.
    if (parsed.error().offset > in.size()) fail("error offset beyond the input", in);
    return;
  }
  const std::size_t total = *parsed->ip.total_length;
  const Bytes out = emit(*parsed);
  if (out.size() != total || !std::equal(out.begin(), out.end(), in.begin())) {
    fail("parse -> emit is not byte-exact", in);
  }
  auto again = parse_tcp_packet(out);
  if (!again) fail("emitted bytes do not parse", in);
  if (again->ip_checksum_ok != parsed->ip_checksum_ok ||
      again->tcp_checksum_ok != parsed->tcp_checksum_ok) {
    fail("checksum verdict changed across a round trip", in);
  }

  TcpPacket rebuilt = *parsed;
  rebuilt.recompute();
  auto fresh = parse_tcp_packet(emit(rebuilt));
  if (!fresh) fail("packet rebuilt with computed lengths does not parse", in);
  if (!fresh->ip_checksum_ok || !fresh->tcp_checksum_ok) fail("computed checksum is wrong", in);
  if (fresh->tcp.options != parsed->tcp.options || fresh->payload != parsed->payload ||
      fresh->tcp.seq != parsed->tcp.seq || fresh->tcp.ack != parsed->tcp.ack ||
      fresh->tcp.flags != parsed->tcp.flags || fresh->tcp.window != parsed->tcp.window) {
    fail("rebuilt packet differs from the parsed one", in);
  }
  (void)format_tcp(*parsed);
}

void check_link(ByteSpan in) {
  auto arp = parse_arp(in);
  if (arp) {
    const Bytes out = emit_arp(*arp);
    if (!std::equal(out.begin(), out.end(), in.begin())) fail("ARP round trip is not exact", in);
  }
  for (LinkType t : {LinkType::kRaw, LinkType::kEthernet, LinkType::kLinuxSll, LinkType::kLinuxSll2,
                     LinkType::kNull}) {
    (void)format_frame(t, in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan in(data, size);
  check_tcp(in);
  check_link(in);
  return 0;
}
