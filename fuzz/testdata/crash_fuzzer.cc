// crash_fuzzer: a test-only fuzz target that aborts on any input starting with "CRASH", so the
// tests of scripts/nightly-fuzz.sh can check its crash path (collect, minimize, reproduce).
// Built only when SYNACK_FUZZ and SYNACK_TESTS are on; never a product target.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Byte by byte, so libFuzzer's comparison tracing leads it to the word quickly.
  static constexpr char kWord[] = "CRASH";
  for (std::size_t i = 0; i < sizeof(kWord) - 1; ++i) {
    if (i >= size || data[i] != static_cast<std::uint8_t>(kWord[i])) return 0;
  }
  std::fprintf(stderr, "crash_fuzzer: input starts with CRASH\n");
  std::abort();
}
