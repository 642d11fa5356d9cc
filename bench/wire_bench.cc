// Throughput of the harness codec on the sample packets (the conversation plus random segments):
// parse, emit, and one-line formatting. Run: build/default/bench/wire_bench
#include <benchmark/benchmark.h>

#include "harness/wire/format.h"
#include "harness/wire/sample.h"
#include "harness/wire/tcp.h"

namespace {

using namespace synack::wire;

std::vector<Bytes> sample_bytes() {
  std::vector<Bytes> v;
  for (const auto& s : sample_packets(1, 1000)) v.push_back(emit(s.packet));
  return v;
}

void BM_ParseTcpPacket(benchmark::State& state) {
  const auto packets = sample_bytes();
  std::size_t i = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    const Bytes& b = packets[i++ % packets.size()];
    auto p = parse_tcp_packet(b);
    benchmark::DoNotOptimize(p);
    bytes += static_cast<std::int64_t>(b.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ParseTcpPacket);

void BM_EmitTcpPacket(benchmark::State& state) {
  std::vector<TcpPacket> packets;
  for (const auto& s : sample_packets(1, 1000)) packets.push_back(s.packet);
  std::size_t i = 0;
  Bytes out;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    out.clear();
    emit(packets[i++ % packets.size()], out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EmitTcpPacket);

void BM_FormatTcpPacket(benchmark::State& state) {
  std::vector<TcpPacket> packets;
  for (const auto& b : sample_bytes()) packets.push_back(*parse_tcp_packet(b));
  std::size_t i = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    auto s = format_tcp(packets[i++ % packets.size()]);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FormatTcpPacket);

}  // namespace

BENCHMARK_MAIN();
