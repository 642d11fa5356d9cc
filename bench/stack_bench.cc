// Two in-process stacks wired together through memory.
//   BM_ConnectionLifecycle: whole connections: connect (SYN, SYN,ACK, ACK), one data segment each
//     way, close on both sides (FIN, FIN,ACK, ACK), with the white-box invariant checks on and
//     off. Reports connections/s (items_per_second) and segments delivered/s.
//   BM_BulkTransfer: 16 MiB one way over the simulated link of stack/tcp/hostile_link.h (zero
//     delay; lossless, or 1% of packets dropped), connect to the end of TIME-WAIT, invariant
//     checks on and off. Reports segments carried by the link per second and payload MB/s.
// Run: build/default/bench/stack_bench
#include <array>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "stack/stack.h"
#include "stack/tcp/hostile_link.h"

namespace {

using namespace synack::stack;

constexpr std::uint32_t kServerAddr = 0xc0a80001;  // 192.168.0.1
constexpr std::uint32_t kClientAddr = 0xc0a80002;  // 192.168.0.2
constexpr std::uint16_t kServerPort = 80;
// Every this many connections the clock jumps past 2*MSL so that the client's TIME-WAIT
// connections expire (and the ephemeral ports, 28232 of them, never run out).
constexpr std::int64_t kConnectionsPerPeriod = 1024;

void BM_ConnectionLifecycle(benchmark::State& state, bool check_invariants) {
  StackConfig client_config;
  client_config.local_addr = kClientAddr;
  client_config.check_invariants = check_invariants;
  StackConfig server_config;
  server_config.local_addr = kServerAddr;
  server_config.check_invariants = check_invariants;
  Stack client(client_config, 1);
  Stack server(server_config, 2);
  const SocketId listener = server.socket().value();
  if (!server.bind(listener, kServerPort).ok() || !server.listen(listener, 128).ok()) {
    state.SkipWithError("cannot listen");
    return;
  }

  Instant now{0};
  std::int64_t segments = 0;
  // Delivers each stack's output to the other until both are quiet.
  auto pump = [&] {
    for (bool moved = true; moved;) {
      moved = false;
      for (const Packet& p : client.take_output()) {
        server.input(p, now);
        ++segments;
        moved = true;
      }
      for (const Packet& p : server.take_output()) {
        client.input(p, now);
        ++segments;
        moved = true;
      }
    }
  };

  const std::array<std::uint8_t, 1> ping{'p'};
  const std::array<std::uint8_t, 1> pong{'q'};
  std::int64_t connections = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    const SocketId c = client.socket().value();
    client.connect(c, Endpoint{kServerAddr, kServerPort});  // EINPROGRESS
    pump();                                                 // SYN, SYN,ACK, ACK
    const auto s = server.accept(listener);
    if (!s.ok()) {
      state.SkipWithError("the handshake did not complete");
      break;
    }
    client.write(c, ping);
    pump();
    const auto request = server.read(s.value(), 16);
    server.write(s.value(), pong);
    pump();
    const auto reply = client.read(c, 16);
    if (!request.ok() || request.value().size() != 1 || !reply.ok() || reply.value().size() != 1) {
      state.SkipWithError("the data did not arrive");
      break;
    }
    client.close(c);  // FIN; the server's ACK of it waits for its own FIN (CLOSE-WAIT)
    pump();
    server.close(s.value());  // FIN,ACK; the client's ACK ends it (client in TIME-WAIT)
    pump();
    if (++connections % kConnectionsPerPeriod == 0) {
      now += 2 * client_config.msl + 1s;
      client.advance(now);
      server.advance(now);
      pump();
    }
  }

  // (The timing stopped with the loop.) Every connection ended CLOSED on the server and in
  // TIME-WAIT on the client.
  bool clean = server.connections().empty();
  for (const Snapshot& snap : client.connections()) clean = clean && snap.state == State::kTimeWait;
  if (!clean) state.SkipWithError("connections left in other states than TIME-WAIT");

  state.SetItemsProcessed(connections);
  state.counters["segments"] =
      benchmark::Counter(static_cast<double>(segments), benchmark::Counter::kIsRate);
  state.counters["segs_per_conn"] =
      connections != 0 ? static_cast<double>(segments) / static_cast<double>(connections) : 0.0;
}
BENCHMARK_CAPTURE(BM_ConnectionLifecycle, invariants_on, true);
BENCHMARK_CAPTURE(BM_ConnectionLifecycle, invariants_off, false);

constexpr std::size_t kBulkBytes = std::size_t{16} << 20;  // 16 MiB, A to B

// One iteration is one whole transfer, from connect() to the end of TIME-WAIT (virtual time:
// the wait costs nothing), the bytes read compared with the bytes written. Every iteration
// replays the same seed, so each one does the same work.
void BM_BulkTransfer(benchmark::State& state, bool check_invariants, double drop) {
  const std::vector<std::uint8_t> payload = sim::random_payload(kBulkBytes, 1);
  sim::TransferSpec spec;
  spec.a_config.check_invariants = check_invariants;
  spec.b_config.check_invariants = check_invariants;
  spec.profile.drop = drop;  // no delay, no jitter, nothing else
  spec.seed = 1;
  spec.a_to_b = payload;

  // One untimed transfer first: glibc's malloc raises its mmap threshold after the first large
  // buffer is freed, and without this the first case alone would pay page faults on every
  // 16 MiB buffer.
  if (const sim::TransferResult warm = sim::run_transfer(spec); !warm.ok()) {
    state.SkipWithError("the transfer did not complete intact");
    return;
  }
  std::uint64_t segments = 0;
  std::uint64_t bytes = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    const sim::TransferResult r = sim::run_transfer(spec);
    if (!r.ok()) {
      state.SkipWithError(r.error.empty() ? "the transfer did not complete intact"
                                          : r.error.c_str());
      break;
    }
    segments += r.link.delivered;
    bytes += r.received_by_b.size();
    state.counters["virtual_s"] = static_cast<double>(r.elapsed.count()) / 1e6;
  }
  state.counters["segments"] =
      benchmark::Counter(static_cast<double>(segments), benchmark::Counter::kIsRate);
  state.counters["payload_MB"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_BulkTransfer, lossless_invariants_off, false, 0.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BulkTransfer, lossless_invariants_on, true, 0.0)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_BulkTransfer, drop_1pct_invariants_on, true, 0.01)
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
