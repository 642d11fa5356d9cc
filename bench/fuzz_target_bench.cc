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
#include <utility>
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

// What one input did: its finding ("" when clean) and the segments it carried.
struct Outcome {
  std::string finding;
  std::size_t segments = 0;
};

// Runs the target's corpus, input after input, for as long as the benchmark wants; reports
// inputs/s, segments/s, segments per input and the corpus size.
template <typename RunOne>
void run_corpus(benchmark::State& state, const char* target, RunOne run_one) {
  const std::vector<Input> corpus = load_corpus(target);
  if (corpus.empty()) {
    state.SkipWithError((std::string("corpus/") + target + " is empty or missing").c_str());
    return;
  }
  std::size_t inputs = 0, segments = 0, next = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): the loop idiom
    const Outcome o = run_one(corpus[next]);
    next = (next + 1) % corpus.size();
    if (!o.finding.empty()) {
      state.SkipWithError(("a committed input has a finding: " + o.finding).c_str());
      return;
    }
    ++inputs;
    segments += o.segments;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(inputs));
  state.counters["segments/s"] =
      benchmark::Counter(static_cast<double>(segments), benchmark::Counter::kIsRate);
  state.counters["segments/input"] = static_cast<double>(segments) / static_cast<double>(inputs);
  state.counters["corpus"] = static_cast<double>(corpus.size());
}

void BM_SessionCorpus(benchmark::State& state) {
  run_corpus(state, "session_fuzzer", [](const Input& in) {
    synack::fuzz::session::RunStats stats;
    std::string finding = synack::fuzz::session::run(
        synack::fuzz::session::decode(in.data(), in.size()), nullptr, &stats);
    return Outcome{std::move(finding), stats.segments_in + stats.segments_out};
  });
}
BENCHMARK(BM_SessionCorpus)->MinTime(3);

void BM_PairCorpus(benchmark::State& state) {
  run_corpus(state, "pair_fuzzer", [](const Input& in) {
    synack::fuzz::pair::RunResult r =
        synack::fuzz::pair::run(synack::fuzz::pair::decode({in.data(), in.size()}));
    return Outcome{std::move(r.finding), static_cast<std::size_t>(r.packets)};
  });
}
BENCHMARK(BM_PairCorpus)->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
