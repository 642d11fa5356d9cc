// Writes the sample capture: sample_packets() as LINKTYPE_RAW, or inside Ethernet frames with
// ARP traffic around them (--ethernet). Used by the build (the quick start's capture) and tests.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "harness/wire/ethernet.h"
#include "harness/wire/pcap.h"
#include "harness/wire/sample.h"

namespace {

constexpr const char* kUsage =
    "Usage: make_sample_pcap [--ethernet] [--seed N] [--random N] OUT.pcap\n"
    "Writes a deterministic varied capture (defaults: seed 1, 100 random segments after a\n"
    "15-packet conversation).\n";

}  // namespace

int main(int argc, char** argv) {
  bool ethernet = false;
  std::uint32_t seed = 1;
  std::size_t random_count = 100;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--ethernet") {
      ethernet = true;
    } else if ((a == "--seed" || a == "--random") && i + 1 < argc) {
      const unsigned long v = std::strtoul(argv[++i], nullptr, 10);
      if (a == "--seed") {
        seed = static_cast<std::uint32_t>(v);
      } else {
        random_count = v;
      }
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (out.empty() && !a.starts_with("-")) {
      out = a;
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (out.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  using namespace synack::wire;
  auto writer = PcapWriter::open(out, ethernet ? LinkType::kEthernet : LinkType::kRaw);
  if (!writer) {
    std::fprintf(stderr, "make_sample_pcap: %s\n", writer.error().c_str());
    return 1;
  }
  const MacAddr harness{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}};
  const MacAddr stack{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
  const auto packets = sample_packets(seed, random_count);
  if (ethernet) {
    // The harness resolves the stack's address first, as it will on a tap link.
    const ArpPacket who_has{arp_op::kRequest, harness, packets.front().packet.ip.src, MacAddr{},
                            packets.front().packet.ip.dst};
    const ArpPacket is_at{arp_op::kReply, stack, who_has.target_ip, harness, who_has.sender_ip};
    writer->write(
        0, emit_ethernet({MacAddr::broadcast(), harness, ethertype::kArp}, emit_arp(who_has)));
    writer->write(0, emit_ethernet({harness, stack, ethertype::kArp}, emit_arp(is_at)));
  }
  for (const auto& [ts, p] : packets) {
    const Bytes ip = emit(p);
    if (ethernet) {
      const bool from_first = p.ip.src == packets.front().packet.ip.src;
      writer->write(ts, emit_ethernet({from_first ? stack : harness, from_first ? harness : stack,
                                       ethertype::kIpv4},
                                      ip));
    } else {
      writer->write(ts, ip);
    }
  }
  if (std::string err = writer->close(); !err.empty()) {
    std::fprintf(stderr, "make_sample_pcap: %s\n", err.c_str());
    return 1;
  }
  return 0;
}
