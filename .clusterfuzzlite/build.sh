#!/bin/bash -eu
# Builds every fuzz target for ClusterFuzzLite / OSS-Fuzz (run as $SRC/build.sh in the image of
# Dockerfile) or by hand. Honours CC, CXX, CFLAGS, CXXFLAGS and LIB_FUZZING_ENGINE (the engine and
# sanitizers come from them: cmake/Sanitizers.cmake adds none of its own when
# LIB_FUZZING_ENGINE is set), writes to $OUT, builds under $WORK (a temporary directory if
# unset) and reads the source from $SRC/synack or, when run from a checkout, the checkout.
#
# Into $OUT, per target: the binary, <target>_seed_corpus.zip (corpus/<target>),
# <target>.dict (fuzz/<target>.dict, if any) and <target>.options (its -max_len).

here=$(cd "$(dirname "$0")" && pwd)
if [[ -f "$here/../fuzz/CMakeLists.txt" ]]; then
  src=$(cd "$here/.." && pwd)
elif [[ -n "${SRC:-}" && -f "$SRC/synack/fuzz/CMakeLists.txt" ]]; then
  src=$SRC/synack
else
  echo "build.sh: cannot find the synack source (run from a checkout, or set SRC)" >&2
  exit 1
fi
: "${OUT:?build.sh: set OUT, the directory for the fuzz targets}"
: "${CXX:?build.sh: set CXX (clang++)}"
: "${LIB_FUZZING_ENGINE:?build.sh: set LIB_FUZZING_ENGINE (e.g. -fsanitize=fuzzer)}"
export LIB_FUZZING_ENGINE
mkdir -p "$OUT"

cleanup_work=""
if [[ -z "${WORK:-}" ]]; then
  WORK=$(mktemp -d)
  cleanup_work=$WORK
fi
trap '[[ -z "$cleanup_work" ]] || rm -rf "$cleanup_work"' EXIT
build=$WORK/synack-build

# The targets: every synack_fuzz_target(NAME x ... [MAX_LEN n]) in fuzz/CMakeLists.txt.
declare -A max_len=()
targets=()
while read -r name len; do
  targets+=("$name")
  max_len[$name]=$len
done < <("$src/scripts/fuzz-targets.sh" "$src")
((${#targets[@]} > 0)) || { echo "build.sh: no fuzz targets in $src/fuzz/CMakeLists.txt" >&2; exit 1; }

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$src" -B "$build" "${generator[@]}" \
  -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DCMAKE_BUILD_TYPE= -DSYNACK_FUZZ=ON -DSYNACK_TESTS=OFF -DSYNACK_BENCH=OFF
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"

# A flat zip of a folder's files, with zip or, without it, Python's zipfile.
zip_dir() {
  local dir=$1 zip=$2
  rm -f "$zip"
  if command -v zip >/dev/null; then
    (cd "$dir" && zip -q -X -j "$zip" ./*)
  else
    python3 - "$dir" "$zip" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if os.path.isfile(path):
            z.write(path, name)
PY
  fi
}

for t in "${targets[@]}"; do
  cp "$build/fuzz/$t" "$OUT/$t"
  if [[ -d "$src/corpus/$t" ]]; then zip_dir "$src/corpus/$t" "$OUT/${t}_seed_corpus.zip"; fi
  if [[ -f "$src/fuzz/$t.dict" ]]; then cp "$src/fuzz/$t.dict" "$OUT/$t.dict"; fi
  printf '[libfuzzer]\nmax_len = %s\n' "${max_len[$t]}" >"$OUT/$t.options"
  echo "build.sh: $OUT/$t"
done
