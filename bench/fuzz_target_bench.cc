// The session and pair fuzz targets' own cost, without libFuzzer: every input of the committed
// corpus (corpus/session_fuzzer, corpus/pair_fuzzer) decoded and run as the fuzzer runs it, with
// the stack's white-box invariants and the black-box oracle on, round after round.
//   BM_SessionCorpus / BM_PairCorpus report inputs/s (items_per_second) and segments/s
//   (segments the stacks took in and sent out, so a long session counts for what it does), plus
//   the corpus's average segments per input.
// libFuzzer's own work per execution (coverage collection, entropic scheduling, mutation) and
// the sanitizers come on top: bench/fuzz_execs.sh measures the fuzzers as they run.
// Run: build/default/bench/fuzz_target_bench [--benchmark_min_time=5]
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "fuzz/pair/pair.h"
#include "fuzz/session/session.h"
#include "fuzz/session/trace.h"

namespace {

using Input = std::vector<std::uint8_t>;

// The corpus's files in name order (the same order every run).
std::vector<Input> load_corpus(const char* target) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(SYNACK_SOURCE_DIR) / "corpus" / target;
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Input> inputs;
  for (const fs::path& p : paths) {
    std::ifstream in(p, std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return inputs;
}

void report(benchmark::State& state, std::size_t inputs, std::size_t segments,
            std::size_t corpus_size) {
  state.SetItemsProcessed(static_cast<std::int64_t>(inputs));
  state.counters["segments/s"] =
      benchmark::Counter(static_cast<double>(segments), benchmark::Counter::kIsRate);
  state.counters["segments/input"] = static_cast<double>(segments) / static_cast<double>(inputs);
  state.counters["corpus"] = static_cast<double>(corpus_size);
}

void BM_SessionCorpus(benchmark::State& state) {
  const std::vector<Input> corpus = load_corpus("session_fuzzer");
  if (corpus.empty()) {
    state.SkipWithError("corpus/session_fuzzer is empty or missing");
    return;
  }
  std::size_t inputs = 0, segments = 0, next = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    const Input& in = corpus[next];
    next = (next + 1) % corpus.size();
    synack::fuzz::session::RunStats stats;
    const std::string finding = synack::fuzz::session::run(
        synack::fuzz::session::decode(in.data(), in.size()), nullptr, &stats);
    if (!finding.empty()) {
      state.SkipWithError(("a committed input has a finding: " + finding).c_str());
      return;
    }
    ++inputs;
    segments += stats.segments_in + stats.segments_out;
  }
  report(state, inputs, segments, corpus.size());
}
BENCHMARK(BM_SessionCorpus)->MinTime(3);

void BM_PairCorpus(benchmark::State& state) {
  const std::vector<Input> corpus = load_corpus("pair_fuzzer");
  if (corpus.empty()) {
    state.SkipWithError("corpus/pair_fuzzer is empty or missing");
    return;
  }
  std::size_t inputs = 0, segments = 0, next = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    const Input& in = corpus[next];
    next = (next + 1) % corpus.size();
    const synack::fuzz::pair::RunResult r =
        synack::fuzz::pair::run(synack::fuzz::pair::decode({in.data(), in.size()}));
    if (!r.finding.empty()) {
      state.SkipWithError(("a committed input has a finding: " + r.finding).c_str());
      return;
    }
    ++inputs;
    segments += r.packets;
  }
  report(state, inputs, segments, corpus.size());
}
BENCHMARK(BM_PairCorpus)->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
