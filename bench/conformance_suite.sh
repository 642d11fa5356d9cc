#!/usr/bin/env bash
# Wall time of the conformance suite against the in-process stack (virtual time: a case that
# spans minutes of TCP time costs microseconds).
#   bench/conformance_suite.sh [BUILD_DIR] [RUNS]     defaults: build/default, 20
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/default}
runs=${2:-20}
synack="$build/synack"
[[ -x "$synack" ]] || { echo "conformance_suite.sh: no $synack; build first" >&2; exit 2; }
cases=$(find conformance -name '*.pkt' | wc -l)
"$synack" run conformance/ >/dev/null  # warm up, and fail loudly if the suite does not pass
times=()
for _ in $(seq "$runs"); do
  start=$(date +%s%N)
  "$synack" run conformance/ >/dev/null
  times+=($(( ($(date +%s%N) - start) / 1000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=${sorted[$(( runs / 2 ))]}
awk -v n="$cases" -v med="$median" -v runs="$runs" -v lo="${sorted[0]}" -v hi="${sorted[-1]}" \
  'BEGIN { printf "conformance suite, inproc: %d cases, median %.1f ms wall over %d runs (min %.1f, max %.1f)\n", n, med / 1000, runs, lo / 1000, hi / 1000 }'
