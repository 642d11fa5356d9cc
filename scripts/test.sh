#!/usr/bin/env bash
# The whole test suite, as CI runs it (README's second quick-start command).
#
#   1. fuzz preset (clang-14, libFuzzer + ASan + UBSan): build every fuzz target and run each
#      briefly from its committed corpus.
#   2. coverage preset (clang-14, llvm-cov): build, so the preset never rots.
#   3. asan preset (gcc, ASan + UBSan): build and run every test: unit tests, the Scapy and
#      tshark cross-checks, the Python tests, corpus replays, clang-format and clang-tidy.
# Ends with CTest's summary of step 3. Extra arguments go to that ctest, e.g.
#   scripts/test.sh -LE slow        skip tests labelled slow
#   scripts/test.sh -R Scapy        only the Scapy cross-check
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi

scripts/bootstrap.sh

step() { printf '\n=== %s\n' "$*"; }
quiet() {  # run a build step, showing its output only when it fails
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log"
    rm -f "$log"
    echo "FAILED: $*" >&2
    exit 1
  fi
  rm -f "$log"
}

step "fuzz preset: build and run the fuzz targets from their corpora"
quiet cmake --preset fuzz
quiet cmake --build --preset fuzz
ctest --preset fuzz -L fuzz

step "coverage preset: build"
quiet cmake --preset coverage
quiet cmake --build --preset coverage

step "asan preset: build and run every test"
quiet cmake --preset asan
quiet cmake --build --preset asan
ctest --preset asan "$@"
