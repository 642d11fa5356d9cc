#!/usr/bin/env bash
# What the sanitizers cost the fuzz targets: each target runs for SECONDS, one process, from a
# temporary copy of its corpus, once built with ASan + UBSan (preset fuzz) and once with
# libFuzzer alone (preset fuzz-nosan); prints libFuzzer's average exec/s for both, over the
# whole run and over the fuzzing loop alone (after the seed corpus has loaded: loading runs
# every seed once and pays most of libFuzzer's per-feature bookkeeping).
#
#   bench/fuzz_execs.sh [--seconds N] [--targets a,b]
#
#   --seconds N     how long each run lasts (default 20)
#   --targets a,b   which targets (default: every synack_fuzz_target in fuzz/CMakeLists.txt)
#
# Builds the two presets' fuzz targets when they are out of date. Same flags in both runs:
# -seed=1, the target's -max_len, fuzz/<target>.dict when there is one. Exit status 2 on a usage
# error, 3 when a build fails.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=fuzz_execs.sh

usage_error() {
  echo "$PROG: $*" >&2
  echo "Try '$PROG --help'." >&2
  exit 2
}

seconds=20
targets_arg=""
while (($#)); do
  case "$1" in
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    --seconds | --targets)
      (($# >= 2)) || usage_error "$1 needs a value"
      if [[ "$1" == --seconds ]]; then seconds=$2; else targets_arg=$2; fi
      shift 2
      ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((10#$seconds == 0)); then
  usage_error "--seconds wants a positive whole number, got '$seconds'"
fi

declare -A max_len=()
known=()
while read -r name len; do
  known+=("$name")
  max_len[$name]=$len
done < <("$ROOT/scripts/fuzz-targets.sh" "$ROOT")

targets=()
if [[ -n "$targets_arg" ]]; then
  IFS=, read -r -a requested <<<"$targets_arg"
  for t in "${requested[@]}"; do
    [[ -v "max_len[$t]" ]] || usage_error "unknown target '$t' (known: ${known[*]})"
    targets+=("$t")
  done
else
  targets=("${known[@]}")
fi
((${#targets[@]} > 0)) || usage_error "no targets"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-execs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

for preset in fuzz fuzz-nosan; do
  log="$tmp/build-$preset.log"
  if { [[ -f "$ROOT/build/$preset/CMakeCache.txt" ]] || (cd "$ROOT" && cmake --preset "$preset") >"$log" 2>&1; } &&
    (cd "$ROOT" && cmake --build --preset "$preset" -j2 --target "${targets[@]}") >>"$log" 2>&1; then
    :
  else
    tail -n 30 "$log" >&2
    echo "$PROG: error: building preset $preset failed" >&2
    exit 3
  fi
done

# One run: prints libFuzzer's stat::average_exec_per_sec.
execs() {
  local preset=$1 t=$2 dir="$tmp/$1-$2"
  mkdir -p "$dir/corpus"
  if [[ -d "$ROOT/corpus/$t" ]]; then cp -R "$ROOT/corpus/$t/." "$dir/corpus/"; fi
  local args=(-max_total_time="$seconds" -seed=1 -max_len="${max_len[$t]}" -print_final_stats=1
    -artifact_prefix="$dir/")
  if [[ -f "$ROOT/fuzz/$t.dict" ]]; then args+=(-dict="$ROOT/fuzz/$t.dict"); fi
  (cd "$dir" && "$ROOT/build/$preset/fuzz/$t" "${args[@]}" corpus) >"$dir/log" 2>&1 || true
  local v units init_units init_rate steady
  v=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]*([0-9]+).*/\1/p' "$dir/log")
  # After the seeds have loaded: libFuzzer's INITED line gives the runs and rate so far, the
  # final stats the whole run's; the difference is the fuzzing loop alone.
  units=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]*([0-9]+).*/\1/p' "$dir/log")
  read -r init_units init_rate < <(sed -nE 's/^#([0-9]+)[[:space:]]+INITED.* exec\/s: ([0-9]+).*/\1 \2/p' "$dir/log" | head -n 1) || true
  steady=$(awk -v n="${units:-0}" -v r="${v:-0}" -v n0="${init_units:-0}" -v r0="${init_rate:-0}" 'BEGIN {
    if (n <= n0 || r <= 0 || r0 <= 0) { print "-"; exit }
    t = n / r - n0 / r0
    if (t <= 0.5) { print "-"; exit }
    printf "%d", (n - n0) / t }')
  # A run that stopped at a finding averages over less than SECONDS, corpus loading included.
  if [[ -n "$v" ]] && grep -qE 'deadly signal|ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)' "$dir/log"; then
    v="$v*"
  fi
  echo "${v:-failed} $steady"
}
crashed=0

printf '%-16s %20s %20s %8s %22s %22s\n' target "ASan+UBSan exec/s" "no sanitizer exec/s" ratio \
  "ASan+UBSan, loop" "no sanitizer, loop"
for t in "${targets[@]}"; do
  read -r with with_loop < <(execs fuzz "$t")
  read -r without without_loop < <(execs fuzz-nosan "$t")
  [[ "$with$without" != *"*"* ]] || crashed=1
  ratio="-"
  if [[ "$with" =~ ^[0-9]+$ && "$without" =~ ^[0-9]+$ ]] && ((with > 0)); then
    ratio=$(awk -v a="$without" -v b="$with" 'BEGIN { printf "%.1fx", a / b }')
  fi
  printf '%-16s %20s %20s %8s %22s %22s\n' "$t" "$with" "$without" "$ratio" "$with_loop" \
    "$without_loop"
done
echo "($seconds s per run, single process, from the committed seeds; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "(loop: exec/s after the seeds have loaded, the fuzzing loop alone; '-' when the run was too short to tell)"
if ((crashed)); then
  echo "(*: the run stopped early at a finding; its figure includes loading the corpus)"
fi
