#include "harness/wire/sample.h"

#include <random>

namespace synack::wire {
namespace {

namespace f = tcp_flags;

constexpr Ipv4Addr kClient = Ipv4Addr::from_octets(10, 0, 0, 2);
constexpr Ipv4Addr kServer = Ipv4Addr::from_octets(10, 0, 0, 1);
constexpr std::uint16_t kClientPort = 40000;
constexpr std::uint16_t kServerPort = 80;

TcpPacket segment(bool from_client, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                  std::uint16_t win, std::vector<TcpOption> options = {}, Bytes payload = {}) {
  TcpPacket p;
  p.ip.src = from_client ? kClient : kServer;
  p.ip.dst = from_client ? kServer : kClient;
  p.ip.flags = kIpFlagDontFragment;
  p.tcp.src_port = from_client ? kClientPort : kServerPort;
  p.tcp.dst_port = from_client ? kServerPort : kClientPort;
  p.tcp.seq = Seq(seq);
  p.tcp.ack = Seq(ack);
  p.tcp.flags = flags;
  p.tcp.window = win;
  p.tcp.options = std::move(options);
  p.payload = std::move(payload);
  return p;
}

Bytes text(std::string_view s) { return {s.begin(), s.end()}; }

// A client fetches a page: handshake with Linux's SYN options, request, a response in three
// segments with one lost and recovered through SACK, and an orderly close.
std::vector<SamplePacket> conversation() {
  constexpr std::uint32_t kC = 1000;        // client ISS
  constexpr std::uint32_t kS = 4294967000;  // server ISS, so the response crosses the wrap
  const Bytes request = text("GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n");
  const auto req_len = static_cast<std::uint32_t>(request.size());
  const Bytes chunk(1448, 'x');
  const std::uint32_t cs = kC + 1 + req_len;  // client seq after the request
  std::vector<SamplePacket> v;
  std::int64_t t = 0;
  auto add = [&](std::int64_t dt, TcpPacket p) { v.push_back({t += dt, std::move(p)}); };
  add(0, segment(true, kC, 0, f::kSyn, 64240,
                 {OptMss{1460}, OptSackPermitted{}, OptTimestamps{100, 0}, OptNop{},
                  OptWindowScale{7}}));
  add(120, segment(false, kS, kC + 1, f::kSyn | f::kAck, 65160,
                   {OptMss{1460}, OptSackPermitted{}, OptTimestamps{5000, 100}, OptNop{},
                    OptWindowScale{7}}));
  add(130,
      segment(true, kC + 1, kS + 1, f::kAck, 502, {OptNop{}, OptNop{}, OptTimestamps{101, 5000}}));
  add(40, segment(true, kC + 1, kS + 1, f::kPsh | f::kAck, 502,
                  {OptNop{}, OptNop{}, OptTimestamps{101, 5000}}, request));
  add(110,
      segment(false, kS + 1, cs, f::kAck, 509, {OptNop{}, OptNop{}, OptTimestamps{5001, 101}}));
  add(500, segment(false, kS + 1, cs, f::kAck, 509, {OptNop{}, OptNop{}, OptTimestamps{5002, 101}},
                   chunk));
  // The second chunk is lost; the third arrives and the client SACKs it.
  add(10, segment(false, kS + 1 + 2 * 1448, cs, f::kPsh | f::kAck, 509,
                  {OptNop{}, OptNop{}, OptTimestamps{5002, 101}}, chunk));
  add(100, segment(true, cs, kS + 1 + 1448, f::kAck, 501,
                   {OptNop{}, OptNop{}, OptTimestamps{102, 5002}, OptNop{}, OptNop{},
                    OptSack{{{Seq(kS + 1 + 2 * 1448), Seq(kS + 1 + 3 * 1448)}}}}));
  add(200000, segment(false, kS + 1 + 1448, cs, f::kAck, 509,
                      {OptNop{}, OptNop{}, OptTimestamps{5210, 102}}, chunk));
  add(100, segment(true, cs, kS + 1 + 3 * 1448, f::kAck, 501,
                   {OptNop{}, OptNop{}, OptTimestamps{103, 5210}}));
  add(1000, segment(true, cs, kS + 1 + 3 * 1448, f::kFin | f::kAck, 501,
                    {OptNop{}, OptNop{}, OptTimestamps{104, 5210}}));
  add(100, segment(false, kS + 1 + 3 * 1448, cs + 1, f::kFin | f::kAck, 509,
                   {OptNop{}, OptNop{}, OptTimestamps{5212, 104}}));
  add(100, segment(true, cs + 1, kS + 2 + 3 * 1448, f::kAck, 501,
                   {OptNop{}, OptNop{}, OptTimestamps{105, 5212}}));
  // A late segment to the closed connection draws a RST.
  add(5000, segment(false, kS + 2 + 3 * 1448, cs + 1, f::kPsh | f::kAck, 509, {}, text("late")));
  add(50, segment(true, cs + 1, 0, f::kRst, 0));
  return v;
}

TcpOption random_option(std::mt19937& rng) {
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  switch (pick(7)) {
    case 0:
      return OptNop{};
    case 1:
      return OptMss{static_cast<std::uint16_t>(536 + pick(9000))};
    case 2:
      return OptWindowScale{static_cast<std::uint8_t>(pick(15))};
    case 3:
      return OptSackPermitted{};
    case 4: {
      OptSack sack;
      const std::uint32_t n = 1 + pick(3);
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto left = static_cast<std::uint32_t>(rng());
        sack.blocks.push_back({Seq(left), Seq(left + 1 + pick(65535))});
      }
      return sack;
    }
    case 5:
      return OptTimestamps{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
    default: {
      // Experimental kinds (RFC 4727): unknown to every stack, and to Wireshark only by number.
      OptRaw raw{static_cast<std::uint8_t>(253 + pick(2)), Bytes(2 + pick(5))};
      for (auto& b : raw.data) b = static_cast<std::uint8_t>(rng());
      return raw;
    }
  }
}

TcpPacket random_segment(std::mt19937& rng) {
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  TcpPacket p =
      segment(pick(2) == 0, static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng()),
              static_cast<std::uint8_t>(rng()), static_cast<std::uint16_t>(rng()));
  p.ip.id = static_cast<std::uint16_t>(rng());
  p.ip.ttl = static_cast<std::uint8_t>(1 + pick(255));
  p.ip.tos = static_cast<std::uint8_t>(rng());
  p.tcp.src_port = static_cast<std::uint16_t>(1 + pick(65535));
  p.tcp.urgent_pointer = p.tcp.has(f::kUrg) ? static_cast<std::uint16_t>(rng()) : 0;
  if (pick(8) == 0) p.ip.options = {0x94, 0x04, 0x00, 0x00};  // router alert (RFC 2113)
  std::size_t space = 0;
  for (std::uint32_t n = pick(6); n > 0; --n) {
    TcpOption o = random_option(rng);
    const std::size_t len = option_wire_length(o);
    if (space + len > kTcpMaxOptions) break;
    space += len;
    p.tcp.options.push_back(std::move(o));
  }
  p.payload.resize(pick(4) == 0 ? 0 : pick(200));
  for (auto& b : p.payload) b = static_cast<std::uint8_t>(rng());
  if (pick(10) == 0) p.tcp.checksum = static_cast<std::uint16_t>(rng());  // most likely wrong
  return p;
}

}  // namespace

std::vector<SamplePacket> sample_packets(std::uint32_t seed, std::size_t random_count) {
  std::vector<SamplePacket> v = conversation();
  std::mt19937 rng(seed);
  std::int64_t t = v.empty() ? 0 : v.back().timestamp_us;
  for (std::size_t i = 0; i < random_count; ++i) {
    t += 1 + static_cast<std::int64_t>(rng() % 100000);
    v.push_back({t, random_segment(rng)});
  }
  return v;
}

}  // namespace synack::wire
