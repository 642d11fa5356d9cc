// pair_fuzzer: two built-in stacks over a link the input controls (fuzz/pair/pair.h). Any
// violation of stream integrity, of a white-box invariant of either stack or of the black-box
// oracle on stack A prints its name and aborts; `synack replay` turns the input into a script.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/known_findings.h"
#include "fuzz/pair/pair.h"

// libFuzzer's own byte-level mutator, present only when linked with libFuzzer (the corpus
// replay build links none).
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size)
    __attribute__((weak));

namespace {

// SYNACK_PAIR_KNOWN: findings already reported, as '|'-separated prefixes ("unread-data-
// discarded|oracle rst-reply-form"). A run that ends in one of them is not a crash, so that a
// long campaign can look past a bug that is not fixed yet. Read once: the same for every run.
const std::vector<std::string>& known_findings() {
  static const std::vector<std::string> kKnown =
      synack::fuzz::known_findings_from_env("SYNACK_PAIR_KNOWN");
  return kKnown;
}

class AbortOnViolation : public synack::fuzz::pair::Observer {
 public:
  void violation(const std::string& finding) override {
    for (const std::string& k : known_findings()) {
      if (finding.starts_with(k)) return;
    }
    std::fprintf(stderr, "pair_fuzzer: %s\n", finding.c_str());
    std::abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  AbortOnViolation observer;
  (void)synack::fuzz::pair::run(synack::fuzz::pair::decode({data, size}), &observer);
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  // Now and then a plain byte mutation: every byte string decodes, and byte edits reach
  // combinations (several fields at once, a tag turning into another kind) the typed mutator
  // takes many steps to reach.
  if (LLVMFuzzerMutate != nullptr && seed % 8 == 0) return LLVMFuzzerMutate(data, size, max_size);
  return synack::fuzz::pair::mutate(data, size, max_size, seed);
}

extern "C" std::size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* data1, std::size_t size1,
                                                 const std::uint8_t* data2, std::size_t size2,
                                                 std::uint8_t* out, std::size_t max_out_size,
                                                 unsigned int seed) {
  return synack::fuzz::pair::cross_over({data1, size1}, {data2, size2}, out, max_out_size, seed);
}
