#!/usr/bin/env bash
# Segments/s injected into the Linux kernel's TCP over a tap and answered: synack's linux target
# (build/default/bench/linux_inject) against Debian's Scapy sending the same segments with a
# sendp loop (bench/scapy_inject.py), in the same run, and the ratio. Each side gets a namespace
# and tap of its own (synack's is made and removed by the linux target; Scapy's is
# synack-bench-<pid>, removed by exact name on exit). Needs root and /dev/net/tun.
#
# Usage: bench/linux_inject.sh [COUNT (20000)] [SIZE (100)]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
size=${2:-100}
bin=build/default/bench/linux_inject
if [[ $(id -u) -ne 0 || ! -c /dev/net/tun ]]; then
  echo "linux_inject.sh: needs root and /dev/net/tun (network namespaces and tap devices)" >&2
  exit 2
fi
[[ -x $bin ]] || cmake --build build/default --target linux_inject >/dev/null
ns="synack-bench-$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
synack_line=$("$bin" --count "$count" --size "$size")
echo "$synack_line"
ip netns add "$ns"
scapy_line=$(ip netns exec "$ns" /usr/bin/python3 bench/scapy_inject.py --count "$count" \
  --size "$size" 2>&1 | grep -v '^WARNING' | tail -1)
echo "$scapy_line"
rate() { sed -n 's/.* = \([0-9]*\) segments\/s$/\1/p' <<<"$1"; }
s=$(rate "$synack_line")
p=$(rate "$scapy_line")
if [[ -z $s || -z $p ]]; then
  echo "linux_inject.sh: a side did not finish (see above)" >&2
  exit 1
fi
echo "ratio: synack injects $(awk -v s="$s" -v p="$p" 'BEGIN { printf "%.1f", s / p }')x the segments/s of Scapy's sendp loop ($count segments of $size bytes)"
