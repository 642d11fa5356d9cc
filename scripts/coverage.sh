#!/usr/bin/env bash
# Line and branch coverage of the test suite (clang-14 source-based coverage, llvm-cov).
#   scripts/coverage.sh             summary per file on stdout, HTML in build/coverage/html
#   scripts/coverage.sh -R Scapy    extra arguments select tests (passed to ctest)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/coverage
cmake --preset coverage >/dev/null
cmake --build --preset coverage >/dev/null
rm -rf "$build/profiles"
mkdir -p "$build/profiles"
# Every process the tests start (including synack run by pytest) writes its own profile.
LLVM_PROFILE_FILE="$PWD/$build/profiles/%p-%m.profraw" ctest --preset coverage "$@" >/dev/null || {
  echo "coverage: some tests failed; run ctest --preset coverage to see which" >&2; }
llvm-profdata-14 merge -sparse "$build"/profiles/*.profraw -o "$build/synack.profdata"
mapfile -t objects < <(find "$build" -type f -executable \( -name '*_test' -o -name synack \
  -o -name '*_replay' \) | sort)
args=(-instr-profile="$build/synack.profdata" "${objects[0]}")
for o in "${objects[@]:1}"; do args+=(-object "$o"); done
filter=(-ignore-filename-regex='(_test\.cc|test_util\.h|/usr/)')
llvm-cov-14 show "${args[@]}" "${filter[@]}" -format=html -output-dir="$build/html" >/dev/null
llvm-cov-14 report "${args[@]}" "${filter[@]}"
echo "HTML report: $build/html/index.html"
