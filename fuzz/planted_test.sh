#!/usr/bin/env bash
# Proves the session fuzzer's oracles have teeth (issue: "prove the oracle has teeth").
#   planted_test.sh FUZZER BUG CORPUS_DIR [RUNS]
# With BUG one of stack/planted.h's names, FUZZER is session_fuzzer_planted and must find the
# bug within RUNS executions (default 50000) from a copy of CORPUS_DIR, and the message must
# name the invariant that bug breaks. With BUG "none", FUZZER is the clean session_fuzzer and
# must find nothing in as many runs. libFuzzer runs single-process, seed 1, so a run is
# repeatable; new inputs go to a temporary directory, never into CORPUS_DIR.
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 FUZZER BUG|none CORPUS_DIR [RUNS]" >&2
  exit 2
fi
fuzzer=$1 bug=$2 corpus=$3 runs=${4:-50000}
case $bug in
  none) expect="" ;;
  window-off-by-one) expect="RCV.NXT <= advertised right edge|receive buffer stays within" ;;
  ack-beyond-snd-max) expect="SND.UNA <= SND.NXT|SND.NXT <= SND.MAX" ;;
  rst-anywhere-in-window) expect="challenge-ack" ;;
  retransmit-shifted-bytes) expect="retransmission-same-bytes" ;;
  *) echo "planted_test: unknown bug '$bug'" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp "$corpus"/* "$work/corpus/"
set +e
SYNACK_PLANT=$bug "$fuzzer" -runs="$runs" -seed=1 -entropic=0 -max_len=8192 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" >"$work/log" 2>&1
status=$?
set -e
# Anything libFuzzer wrote (crash-*, ...) is kept in the working directory for synack replay.
for f in "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$work"/leak-*; do
  [[ -e $f ]] && cp "$f" "./planted-$bug-$(basename "$f")" && echo "kept ./planted-$bug-$(basename "$f")"
done
finding=$(grep -m1 -E '^session_fuzzer: (invariant|oracle)' "$work/log" || true)
execs=$(grep -oE 'number_of_executed_units: [0-9]+' "$work/log" | grep -oE '[0-9]+$' || true)
if [[ $bug == none ]]; then
  if [[ $status -ne 0 || -n $finding ]]; then
    echo "FAIL: the clean build found something in $runs runs: ${finding:-exit status $status}"
    tail -20 "$work/log"
    exit 1
  fi
  echo "PASS: the clean session_fuzzer found nothing in $runs runs from $(ls "$corpus" | wc -l) seeds"
  exit 0
fi
if [[ $status -eq 0 || -z $finding ]]; then
  echo "FAIL: planted bug $bug not found in $runs runs (exit status $status)"
  tail -20 "$work/log"
  exit 1
fi
if ! grep -qE "$expect" <<<"$finding"; then
  echo "FAIL: planted bug $bug was found, but by another invariant than expected ($expect):"
  echo "$finding"
  exit 1
fi
echo "PASS: planted bug $bug found after ${execs:-?} executions (of at most $runs): $finding" | cut -c1-400
