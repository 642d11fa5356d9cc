#!/usr/bin/env bash
# Runs every fuzz target for a while, keeps what it learnt, and reports what it found.
#
#   scripts/nightly-fuzz.sh --time SECONDS [--jobs N] [--targets a,b] [--out DIR] [--no-merge]
#                           [--corpus-dir DIR] [--target-binary PATH]... [--minimize-time S]
#
#   --time SECONDS     total fuzzing time, split evenly between the targets, which run one after
#                      the other (each for SECONDS / number-of-targets, at least 1 s; fork
#                      mode lets a target's last job finish, a few seconds more)
#   --jobs N           libFuzzer fork-mode jobs per target (-fork=N; default 1)
#   --targets a,b      only these targets (default: every synack_fuzz_target in
#                      fuzz/CMakeLists.txt)
#   --out DIR          where crashes, logs and the coverage report go
#                      (default build/nightly-fuzz/<date>-<time>)
#   --no-merge         do not merge new inputs back into the corpus
#   --corpus-dir DIR   the corpus root, one folder per target (default corpus/): seeds are read
#                      from DIR/<target> and new inputs merged back into it
#   --target-binary P  also run the libFuzzer binary P as a target named after its file (its
#                      corpus DIR/<name>, created if missing); without --targets, only these.
#                      Such targets have no coverage build and are left out of the report
#   --minimize-time S  time limit for minimizing each crash (default 30)
#   -h, --help         this text
#
# Each target runs in libFuzzer fork mode (-fork=N -ignore_crashes=1 -max_total_time) from a
# temporary copy of its corpus, with fuzz/<target>.dict when there is one; progress is printed
# every 10 s. Then: new inputs are merged into DIR/<target> (-merge=1); every crash, leak,
# timeout or OOM goes to OUT/crashes/<target>/ with a minimized copy (<name>.min), the
# sanitizer's report (<name>.log) and how to reproduce it (<name>.txt, README.md): for
# session_fuzzer and pair_fuzzer also a .pkt and .pcap from `synack replay` when the default
# build has it. Last, a coverage report of the corpora (the coverage preset's <target>_replay
# programs, llvm-cov) in OUT/coverage/html and one summary line for stack/ and stack/tcp/.
# Builds the fuzz and coverage presets (only the targets needed) when they are out of date.
#
# Exit status: 0 no crash found, 1 crashes found (each listed; every crash of this run counts as
# new), 2 usage error, 3 could not run (a build failed, a tool is missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROG=nightly-fuzz.sh

usage() { sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; }
usage_error() {
  echo "$PROG: $*" >&2
  echo "Try '$PROG --help'." >&2
  exit 2
}
fatal() {
  echo "$PROG: error: $*" >&2
  exit 3
}
say() { echo "[nightly-fuzz] $*"; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

time_total=""
jobs=1
targets_arg=""
targets_given=0
out=""
merge=1
corpus_root="$ROOT/corpus"
minimize_time=30
extra_binaries=()

while (($#)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --time | --jobs | --targets | --out | --corpus-dir | --target-binary | --minimize-time)
      (($# >= 2)) || usage_error "$1 needs a value"
      case "$1" in
        --time) time_total=$2 ;;
        --jobs) jobs=$2 ;;
        --targets)
          targets_arg=$2
          targets_given=1
          ;;
        --out) out=$2 ;;
        --corpus-dir) corpus_root=$2 ;;
        --target-binary) extra_binaries+=("$2") ;;
        --minimize-time) minimize_time=$2 ;;
      esac
      shift 2
      ;;
    --time=* | --jobs=* | --targets=* | --out=* | --corpus-dir=* | --target-binary=* | \
      --minimize-time=*)
      set -- "${1%%=*}" "${1#*=}" "${@:2}"
      ;;
    --no-merge)
      merge=0
      shift
      ;;
    *) usage_error "unknown argument '$1'" ;;
  esac
done

[[ -n "$time_total" ]] || usage_error "--time SECONDS is required"
positive() {
  if ! is_uint "$2" || ((10#$2 == 0)); then usage_error "$1 wants a positive whole number, got '$2'"; fi
}
positive --time "$time_total"
positive --jobs "$jobs"
positive --minimize-time "$minimize_time"
[[ -d "$corpus_root" ]] || usage_error "--corpus-dir: no such directory: $corpus_root"
corpus_root=$(cd "$corpus_root" && pwd)

# --- The targets: every synack_fuzz_target(NAME x ... [MAX_LEN n]) call, however it is wrapped.
declare -A max_len=() binary=()
known=()
while read -r name len; do
  known+=("$name")
  max_len[$name]=$len
done < <("$ROOT/scripts/fuzz-targets.sh" "$ROOT")
((${#known[@]} > 0)) || fatal "no synack_fuzz_target(NAME ...) in $ROOT/fuzz/CMakeLists.txt"

targets=()
if ((targets_given)); then
  IFS=, read -r -a requested <<<"$targets_arg"
  for t in "${requested[@]}"; do
    [[ -n "$t" ]] || continue
    [[ -v "max_len[$t]" ]] || usage_error "unknown target '$t' (known: ${known[*]})"
    targets+=("$t")
  done
  ((${#targets[@]} > 0 || ${#extra_binaries[@]} > 0)) || usage_error "--targets names no target"
elif ((${#extra_binaries[@]} == 0)); then
  targets=("${known[@]}")
fi
built_targets=("${targets[@]}")
for b in "${extra_binaries[@]}"; do
  [[ -f "$b" && -x "$b" ]] || usage_error "--target-binary: not an executable file: $b"
  name=$(basename "$b")
  if [[ -v "binary[$name]" || " ${targets[*]} " == *" $name "* ]]; then
    usage_error "target '$name' given twice"
  fi
  binary[$name]=$(cd "$(dirname "$b")" && pwd)/$name
  max_len[$name]=${max_len[$name]:-4096}
  targets+=("$name")
done

share=$((time_total / ${#targets[@]}))
((share >= 1)) || share=1

if [[ -z "$out" ]]; then out="$ROOT/build/nightly-fuzz/$(date +%Y%m%d-%H%M%S)"; fi
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)

# --- Processes and temporary files: every fuzzer runs in its own process group (its fork-mode
# children with it); on exit, whatever is still running is stopped by that group's id, the pid
# this script started, and nothing else.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nightly-fuzz.XXXXXX")
running=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local status=$?
  if [[ -n "$running" ]]; then
    kill -TERM -- "-$running" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$running" 2>/dev/null || true
    wait "$running" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Starts "$@" in the background in a new process group; sets $running to its pid (= its pgid).
start_group() {
  set -m
  "$@" &
  running=$!
  set +m
}
stop_group() {
  kill -TERM -- "-$running" 2>/dev/null || true
  local _
  for _ in 1 2 3 4 5; do
    kill -0 "$running" 2>/dev/null || break
    sleep 1
  done
  kill -KILL -- "-$running" 2>/dev/null || true
}

# Runs a build step, showing its log only when it fails.
build_step() {
  local log=$1
  shift
  if ! "$@" >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    fatal "build failed: $* (log: $log)"
  fi
}

# --- Build what is needed.
if ((${#built_targets[@]} > 0)); then
  say "building the fuzz preset (${built_targets[*]})"
  fuzz_build="$ROOT/build/fuzz"
  if [[ ! -f "$fuzz_build/CMakeCache.txt" ]]; then
    build_step "$out/logs/build-fuzz.log" cmake -S "$ROOT" --preset fuzz
  fi
  build_step "$out/logs/build-fuzz.log" cmake --build "$fuzz_build" -j2 --target "${built_targets[@]}"
  for t in "${built_targets[@]}"; do
    binary[$t]="$fuzz_build/fuzz/$t"
    [[ -x "${binary[$t]}" ]] || fatal "the fuzz build has no ${binary[$t]} after building it"
  done
fi

# --- Fuzz.
count_crashes() {
  local dir=$1 n=0 f
  for f in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
    if [[ -e "$f" ]]; then n=$((n + 1)); fi
  done
  echo "$n"
}
progress_of() {  # the fork-mode parent's last status line: "#N: cov: .. corp: C exec/s .."
  local line
  line=$(grep -E '^#[0-9]+: cov: ' "$1" 2>/dev/null | tail -n 1 || true)
  if [[ -z "$line" ]]; then
    echo "starting"
  else
    local execs corp
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$line")
    corp=$(sed -E 's/.* corp: ([0-9]+).*/\1/' <<<"$line")
    echo "execs $execs, corpus $corp"
  fi
}

declare -A merged_count=()
for t in "${targets[@]}"; do
  work="$tmp/$t"
  mkdir -p "$work/corpus" "$work/artifacts" "$work/tmp"
  seeds="$corpus_root/$t"
  if [[ -d "$seeds" ]]; then
    cp -R "$seeds/." "$work/corpus/"
  else
    say "$t: no seeds in $seeds; starting from an empty corpus"
  fi
  args=(-fork="$jobs" -ignore_crashes=1 -max_total_time="$share" -max_len="${max_len[$t]}"
    -timeout=25 -artifact_prefix="$work/artifacts/")
  dict="$ROOT/fuzz/$t.dict"
  with_dict=""
  if [[ -f "$dict" ]]; then
    args+=(-dict="$dict")
    with_dict=" and fuzz/$t.dict"
  fi
  log="$out/logs/$t.log"
  say "$t: fuzzing for $share s with $jobs job(s) from $(find "$work/corpus" -type f | wc -l) seeds$with_dict"
  # libFuzzer's fork mode keeps its job files under TMPDIR: ours, removed on exit.
  start_group env TMPDIR="$work/tmp" "${binary[$t]}" "${args[@]}" "$work/corpus" >"$log" 2>&1
  started=$SECONDS
  last_report=$SECONDS
  while kill -0 "$running" 2>/dev/null; do
    sleep 1
    elapsed=$((SECONDS - started))
    if ((SECONDS - last_report >= 10)); then
      last_report=$SECONDS
      say "$t: ${elapsed}/${share} s, $(progress_of "$log"), crashes $(count_crashes "$work/artifacts")"
    fi
    if ((elapsed > share + 60)); then
      say "$t: still running 60 s past its time; stopping it"
      stop_group
    fi
  done
  status=0
  wait "$running" || status=$?
  running=""
  say "$t: done after $((SECONDS - started)) s (exit $status), $(progress_of "$log"), crashes $(count_crashes "$work/artifacts")"

  if ((merge)); then
    mkdir -p "$seeds"
    before=$(find "$seeds" -type f | wc -l)
    if ! env TMPDIR="$work/tmp" "${binary[$t]}" -merge=1 -max_len="${max_len[$t]}" -timeout=25 \
      "$seeds" "$work/corpus" >"$out/logs/$t-merge.log" 2>&1; then
      fatal "$t: merging into $seeds failed (log: $out/logs/$t-merge.log)"
    fi
    merged_count[$t]=$(($(find "$seeds" -type f | wc -l) - before))
    say "$t: merged ${merged_count[$t]} new input(s) into $seeds"
  fi
done

# --- Crashes: collect, minimize, explain how to reproduce.
synack_bin="$ROOT/build/default/synack"
replay_works=0
if [[ -x "$synack_bin" ]] && "$synack_bin" replay --help >/dev/null 2>&1; then replay_works=1; fi

# What a crash report says went wrong and where, to group crashes of one bug: the sanitizer's
# SUMMARY kind, what a fuzz target printed before it aborted, up to its first ": "
# ("session_fuzzer: oracle [1.5 s] ack-monotonic: ..." gives "oracle ack-monotonic"; every
# oracle finding aborts from the same two frames), and the first two stack frames in this
# repository's sources (UBSan prints its stack with print_stacktrace=1). Empty when the report
# names neither.
signature_of() {
  local kind finding frames
  kind=$(grep -m1 -E '^SUMMARY: ' "$1" | sed -E 's/^SUMMARY: //; s# (/|\().*##' || true)
  finding=$(grep -m1 -E '^[a-z]+_fuzzer: ' "$1" | sed -E 's/^[a-z]+_fuzzer: //; s/^([a-z]+) \[[^]]*\] /\1 /' |
    sed -E 's/: .*//' | cut -c1-80 || true)
  if [[ -n "$finding" ]]; then kind="${kind:+$kind: }$finding"; fi
  frames=$(grep -E '^ *#[0-9]+ 0x[0-9a-f]+ in .* '"$ROOT"'/[^ ()]+:[0-9]+(:[0-9]+)?$' "$1" | head -n 2 |
    sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in //' | sed "s#$ROOT/##" | paste -sd';' - |
    sed 's/;/; /g' || true)
  if [[ -n "$frames" ]]; then echo "$kind at $frames"; fi
}
reproduce() {  # binary input log: one run, the report in log
  UBSAN_OPTIONS=print_stacktrace=1 timeout 120 "$1" -timeout=25 "$2" >"$3" 2>&1 || true
}

new_crashes=()
for t in "${targets[@]}"; do
  art="$tmp/$t/artifacts"
  (($(count_crashes "$art") > 0)) || continue
  dest="$out/crashes/$t"
  mkdir -p "$dest"
  readme="$dest/README.md"
  [[ -f "$readme" ]] || printf '# Crashes of %s\n\n' "$t" >"$readme"
  declare -A first_of=()
  for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
    [[ -e "$f" ]] || continue
    name=$(basename "$f")
    cp "$f" "$dest/$name"
    min="$dest/$name.min"
    sig=""
    case "$name" in
      crash-* | leak-*)
        reproduce "${binary[$t]}" "$f" "$tmp/$t/$name.log"
        sig=$(signature_of "$tmp/$t/$name.log")
        ;;
    esac
    if [[ -n "$sig" && -v "first_of[$sig]" ]]; then
      say "$t: $name is the same crash as ${first_of[$sig]} ($sig); not minimized"
      echo "- \`$name\`: the same crash as \`${first_of[$sig]}\` ($sig)" >>"$readme"
      continue
    fi
    if [[ -n "$sig" ]]; then first_of[$sig]=$name; fi
    case "$name" in
      crash-* | leak-*)
        env TMPDIR="$tmp/$t/tmp" timeout $((minimize_time + 30)) "${binary[$t]}" \
          -minimize_crash=1 -runs=100000 -max_total_time="$minimize_time" -timeout=25 \
          -exact_artifact_path="$min" "$f" >"$out/logs/$t-minimize-$name.log" 2>&1 || true
        ;;
    esac
    if [[ ! -s "$min" ]]; then cp "$f" "$min"; fi  # timeouts and OOMs are kept as found
    reproduce "${binary[$t]}" "$min" "$dest/$name.log"
    cmd="${binary[$t]} $min"
    note="$dest/$name.txt"
    {
      echo "target:     $t"
      echo "found:      $name ($(wc -c <"$f") bytes), minimized to $name.min ($(wc -c <"$min") bytes)"
      echo "report:     $name.log"
      if [[ -n "$sig" ]]; then echo "crash:      $sig"; fi
      echo "reproduce:  $cmd"
    } >"$note"
    line="- \`$name\`: \`$cmd\`"
    case "$t" in
      session_fuzzer | pair_fuzzer)
        kind=${t%_fuzzer}
        if ((replay_works)) && "$synack_bin" replay --kind "$kind" "$min" --pkt "$dest/$name.pkt" \
          --pcap "$dest/$name.pcap" >"$dest/$name.replay.txt" 2>&1; then
          echo "script:     $name.pkt (synack replay --kind $kind), capture $name.pcap" >>"$note"
          line+=" (script: \`$name.pkt\`, capture: \`$name.pcap\`)"
        else
          echo "script:     none: '$synack_bin replay --kind $kind' is not available or failed;" \
            "run the command above (or, once it exists: $synack_bin replay --kind $kind $min" \
            "--pkt $name.pkt --pcap $name.pcap)" >>"$note"
        fi
        ;;
    esac
    echo "$line" >>"$readme"
    new_crashes+=("$t: $min${sig:+ ($sig)}")
  done
  unset first_of
done

# --- Coverage of the corpora (coverage preset, <target>_replay).
cov_targets=()
for t in "${targets[@]}"; do
  [[ " ${built_targets[*]} " == *" $t "* ]] && cov_targets+=("$t")
done
coverage_line="coverage: skipped (no target with a coverage build was run)"
if ((${#cov_targets[@]} > 0)); then
  for tool in llvm-profdata-14 llvm-cov-14; do
    command -v "$tool" >/dev/null || fatal "$tool not found (Debian package llvm-14; scripts/bootstrap.sh)"
  done
  replays=()
  for t in "${cov_targets[@]}"; do replays+=("${t}_replay"); done
  say "building the coverage preset (${replays[*]})"
  cov_build="$ROOT/build/coverage"
  if [[ ! -f "$cov_build/CMakeCache.txt" ]]; then
    build_step "$out/logs/build-coverage.log" cmake -S "$ROOT" --preset coverage
  fi
  build_step "$out/logs/build-coverage.log" cmake --build "$cov_build" -j2 --target "${replays[@]}"
  mkdir -p "$tmp/profiles" "$out/coverage"
  objects=()
  for t in "${cov_targets[@]}"; do
    exe="$cov_build/fuzz/${t}_replay"
    [[ -x "$exe" ]] || fatal "the coverage build has no $exe after building it"
    objects+=("$exe")
    # The corpus as fuzzed (seeds and everything new); an input that kills the replay loses only
    # that process's profile.
    if ! LLVM_PROFILE_FILE="$tmp/profiles/$t-%p.profraw" timeout 600 "$exe" "$tmp/$t/corpus" \
      >"$out/logs/$t-coverage.log" 2>&1; then
      say "$t: the coverage replay failed (log: $out/logs/$t-coverage.log); its coverage may be missing"
    fi
  done
  shopt -s nullglob
  profiles=("$tmp"/profiles/*.profraw)
  shopt -u nullglob
  ((${#profiles[@]} > 0)) || fatal "no coverage profile was written (logs in $out/logs)"
  llvm-profdata-14 merge -sparse "${profiles[@]}" -o "$out/coverage/fuzz.profdata"
  cov_args=(-instr-profile="$out/coverage/fuzz.profdata" "${objects[0]}")
  for o in "${objects[@]:1}"; do cov_args+=(-object "$o"); done
  filter=(-ignore-filename-regex='(_test\.cc|test_util\.h|/usr/)')
  # The targets share main() and LLVMFuzzerTestOneInput, whose counters llvm-cov cannot tell
  # apart across programs ("functions have mismatched data"): those few lines in fuzz/ are
  # approximate; the libraries under test are not affected. Its warnings go to the log.
  llvm-cov-14 show "${cov_args[@]}" "${filter[@]}" -format=html \
    -output-dir="$out/coverage/html" >/dev/null 2>"$out/logs/llvm-cov.log"
  llvm-cov-14 export "${cov_args[@]}" "${filter[@]}" -summary-only \
    >"$out/coverage/summary.json" 2>>"$out/logs/llvm-cov.log"
  coverage_line=$(/usr/bin/python3 - "$out/coverage/summary.json" "$ROOT" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))["data"][0]["files"]
root = sys.argv[2].rstrip("/") + "/"

def total(prefix):
    lines = [0, 0]
    branches = [0, 0]
    for f in data:
        name = f["filename"]
        if not name.startswith(root + prefix) or name.endswith("_test.cc"):
            continue
        s = f["summary"]
        lines[0] += s["lines"]["covered"]; lines[1] += s["lines"]["count"]
        branches[0] += s["branches"]["covered"]; branches[1] += s["branches"]["count"]
    return lines, branches

def pct(c):
    return "n/a (0/0)" if c[1] == 0 else f"{100.0 * c[0] / c[1]:.1f}% ({c[0]}/{c[1]})"

parts = []
for prefix, label in (("stack/", "stack/"), ("stack/tcp/", "stack/tcp/"), ("harness/", "harness/")):
    l, b = total(prefix)
    parts.append(f"{label}: lines {pct(l)}, branches {pct(b)}")
print("coverage " + "; ".join(parts))
EOF
  )
  echo "$coverage_line" >"$out/coverage/summary.txt"
fi

# --- Summary.
echo
say "report in $out"
if ((merge)); then
  for t in "${targets[@]}"; do say "corpus $t: +${merged_count[$t]:-0} input(s) in $corpus_root/$t"; done
fi
echo "$coverage_line"
if [[ -d "$out/coverage/html" ]]; then echo "HTML coverage report: $out/coverage/html/index.html"; fi
if ((${#new_crashes[@]} > 0)); then
  echo "${#new_crashes[@]} new crash(es):"
  printf '  %s\n' "${new_crashes[@]}"
  echo "how to reproduce each: README.md and <name>.txt beside it"
  exit 1
fi
echo "no crashes"
exit 0
