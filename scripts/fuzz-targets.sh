#!/usr/bin/env bash
# Lists the fuzz targets: one line "NAME MAX_LEN" per synack_fuzz_target(NAME x ... [MAX_LEN n])
# call in fuzz/CMakeLists.txt, however the call is wrapped (MAX_LEN defaults to 4096, as in
# the function). Shared by scripts/nightly-fuzz.sh, bench/fuzz_execs.sh and
# .clusterfuzzlite/build.sh.
#
#   scripts/fuzz-targets.sh [SOURCE_DIR]   (default: this checkout)
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
list=$src/fuzz/CMakeLists.txt
[[ -f "$list" ]] || { echo "fuzz-targets.sh: no $list" >&2; exit 1; }
awk '
  /^[[:space:]]*synack_fuzz_target[[:space:]]*\(/ { call = ""; open = 1 }
  open { call = call " " $0; if (index($0, ")")) { open = 0; emit(call) } }
  function emit(c,   name, len) {
    if (!match(c, /NAME[[:space:]]+[A-Za-z0-9_]+/)) return
    name = substr(c, RSTART, RLENGTH); sub(/NAME[[:space:]]+/, "", name)
    len = 4096
    if (match(c, /MAX_LEN[[:space:]]+[0-9]+/)) { len = substr(c, RSTART, RLENGTH); sub(/MAX_LEN[[:space:]]+/, "", len) }
    print name, len
  }' "$list"
