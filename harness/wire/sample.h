// A deterministic, varied set of packets: a realistic HTTP-like conversation followed by random
// segments covering every flag, well-formed option kind, odd payload lengths, IP options,
// sequence numbers across the wrap and bad checksums. Used for the sample capture that the
// quick start decodes, the tshark cross-check and the codec benchmark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "harness/wire/tcp.h"

namespace synack::wire {

struct SamplePacket {
  std::int64_t timestamp_us = 0;
  TcpPacket packet;
};

std::vector<SamplePacket> sample_packets(std::uint32_t seed, std::size_t random_count);

}  // namespace synack::wire
