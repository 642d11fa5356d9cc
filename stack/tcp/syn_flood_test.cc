// A SYN flood (RFC 4987): a million spoofed SYNs against a listener with backlog 128 and SYN
// cookies on, and a legitimate client (a second Stack, wired to the first through memory) that
// connects in the middle of it. The state the flood leaves stays bounded by the backlog; the
// legitimate client gets through and exchanges data both ways.
//
// Its own executable, registered with CTest under the label "slow" (stack/CMakeLists.txt).
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <sys/resource.h>
#include <vector>

#include <gtest/gtest.h>

#include "stack/stack.h"
#include "stack/wire/segment.h"

namespace synack::stack {
namespace {

constexpr std::uint32_t kServerAddr = 0xc0a80001;  // 192.168.0.1
constexpr std::uint32_t kClientAddr = 0x0a000007;  // 10.0.0.7, the legitimate client
constexpr std::uint16_t kServerPort = 80;
constexpr std::size_t kBacklog = 128;
constexpr int kSyns = 1'000'000;
constexpr int kClientArrivesAt = 500'000;  // the legitimate client connects before this SYN
constexpr int kCheckEvery = 10'000;
constexpr int kAdvanceEvery = 1'000;
// 10,000 SYNs a second: the flood lasts 100 s of virtual time, longer than a half-open
// connection lives (63 s), so the SYN queue turns over during it.
constexpr Duration kSynGap = 100us;

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

// The IPv4 destination address of a packet the stack emitted (bytes 16..19, network order).
std::uint32_t ipv4_dst(const Packet& p) {
  return std::uint32_t{p[16]} << 24 | std::uint32_t{p[17]} << 16 | std::uint32_t{p[18]} << 8 |
         p[19];
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;  // KiB on Linux
}

TEST(SynFlood, MillionSpoofedSynsStayBoundedAndALegitimateClientGetsThrough) {
  const long rss_before = peak_rss_kib();
  const auto wall_start = std::chrono::steady_clock::now();

  StackConfig server_config;  // defaults: cookies on, every option offered
  server_config.local_addr = kServerAddr;
  Stack server(server_config, 1);
  StackConfig client_config;
  client_config.local_addr = kClientAddr;
  Stack client(client_config, 2);
  std::vector<std::string> violations;
  for (Stack* s : {&server, &client}) {
    s->set_invariant_handler([&](const std::string& what, const Snapshot&) {
      if (violations.size() < 10) violations.push_back(what);
    });
  }

  const SocketId listener = server.socket().value();
  ASSERT_TRUE(server.bind(listener, kServerPort).ok());
  ASSERT_TRUE(server.listen(listener, static_cast<int>(kBacklog)).ok());

  Instant now{0};
  // Delivers everything the client sends to the server, and what the server sends to the
  // client's address to the client, until both are quiet. The server's SYN,ACKs to the spoofed
  // addresses go nowhere.
  std::uint64_t delivered_to_client = 0;
  auto pump = [&] {
    for (bool moved = true; moved;) {
      moved = false;
      for (const Packet& p : client.take_output()) {
        server.input(p, now);
        moved = true;
      }
      for (const Packet& p : server.take_output()) {
        if (ipv4_dst(p) != kClientAddr) continue;
        client.input(p, now);
        ++delivered_to_client;
        moved = true;
      }
    }
  };

  std::mt19937 rng(20240229);
  Segment syn;
  syn.dst_addr = kServerAddr;
  syn.dst_port = kServerPort;
  syn.flags = tcp_flag::kSyn;
  syn.window = 64240;
  syn.options.mss = 1460;

  SocketId client_socket = -1;
  SocketId server_socket = -1;
  std::size_t most_connections = 0;
  std::size_t most_half_open = 0;
  for (int i = 0; i < kSyns; ++i) {
    now = Instant{kSynGap * i};
    if (i == kClientArrivesAt) {
      client.advance(now);
      server.advance(now);
      pump();
      client_socket = client.socket().value();
      ASSERT_EQ(client.connect(client_socket, Endpoint{kServerAddr, kServerPort}).error(),
                EINPROGRESS);
      pump();
      ASSERT_EQ(client.snapshot(client_socket)->state, State::kEstablished);
      Endpoint peer;
      auto accepted = server.accept(listener, &peer);
      ASSERT_TRUE(accepted.ok()) << "the legitimate connection was not accepted";
      server_socket = accepted.value();
      EXPECT_EQ(peer.addr, kClientAddr);
      EXPECT_EQ(server.counters().cookies_valid, 1U);  // the SYN queue was full: a cookie

      ASSERT_TRUE(client.write(client_socket, bytes("hello, server")).ok());
      pump();
      auto at_server = server.read(server_socket, 100);
      ASSERT_TRUE(at_server.ok()) << "errno " << at_server.error();
      EXPECT_EQ(at_server.value(), bytes("hello, server"));
      ASSERT_TRUE(server.write(server_socket, bytes("hello, client")).ok());
      pump();
      auto at_client = client.read(client_socket, 100);
      ASSERT_TRUE(at_client.ok()) << "errno " << at_client.error();
      EXPECT_EQ(at_client.value(), bytes("hello, client"));
    }

    // A spoofed SYN: random source address and port, random ISN, correct checksums.
    do {
      syn.src_addr = static_cast<std::uint32_t>(rng());
    } while (syn.src_addr == kClientAddr || syn.src_addr == kServerAddr);
    syn.src_port = static_cast<std::uint16_t>(rng());
    syn.seq = SeqNum(static_cast<std::uint32_t>(rng()));
    server.input(emit_segment(syn), now);

    if ((i + 1) % kAdvanceEvery == 0) {
      server.advance(now);
      client.advance(now);
      pump();
    }
    if ((i + 1) % kCheckEvery == 0) {
      const std::size_t legitimate = client_socket >= 0 ? 1 : 0;
      const std::size_t connections = server.connections().size();
      const std::size_t half_open = server.listen_queues(listener)->syn_queue;
      most_connections = std::max(most_connections, connections);
      most_half_open = std::max(most_half_open, half_open);
      ASSERT_LE(connections, kBacklog + legitimate) << "after " << i + 1 << " SYNs";
      ASSERT_LE(half_open, kBacklog) << "after " << i + 1 << " SYNs";
    }
  }

  // The legitimate connection survived the rest of the flood and still carries data.
  ASSERT_TRUE(client.write(client_socket, bytes("bye")).ok());
  pump();
  auto last = server.read(server_socket, 100);
  ASSERT_TRUE(last.ok()) << "errno " << last.error();
  EXPECT_EQ(last.value(), bytes("bye"));
  EXPECT_EQ(server.snapshot(server_socket)->state, State::kEstablished);
  EXPECT_EQ(client.snapshot(client_socket)->state, State::kEstablished);

  const StackCounters& c = server.counters();
  EXPECT_EQ(c.bad_checksum, 0U);
  EXPECT_EQ(c.malformed, 0U);
  EXPECT_EQ(c.syn_queue_drops, 0U);
  EXPECT_GT(c.cookies_sent, static_cast<std::uint64_t>(kSyns) * 9 / 10);
  EXPECT_EQ(c.cookies_valid, 1U);
  EXPECT_EQ(most_half_open, kBacklog);
  EXPECT_TRUE(violations.empty()) << violations.front();

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const long rss_growth = peak_rss_kib() - rss_before;
  std::printf(
      "[ SynFlood ] %d SYNs (%.0f s virtual) in %.2f s wall; peak RSS growth %ld KiB; "
      "at most %zu connections, %zu half-open; %llu cookies sent; %llu packets to the client\n",
      kSyns, std::chrono::duration<double>(now).count(), seconds, rss_growth, most_connections,
      most_half_open, static_cast<unsigned long long>(c.cookies_sent),
      static_cast<unsigned long long>(delivered_to_client));
}

}  // namespace
}  // namespace synack::stack
