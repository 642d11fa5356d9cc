#!/usr/bin/env bash
# Install every synack dependency from Debian's packages.
#
# Idempotent and non-interactive: when every package is already installed it
# does nothing but check (a second or two); otherwise it runs one
# `apt-get update` and one `apt-get install`. Nothing is fetched from anywhere
# but Debian's archive.
#
# Usage: scripts/bootstrap.sh [--check]
#   --check   only report missing packages; exit 1 if any are missing.
set -euo pipefail

packages=(
  # toolchain and build
  build-essential g++ cmake ninja-build pkg-config git ca-certificates
  clang-14 libclang-rt-14-dev llvm-14 clang-format clang-tidy
  # libraries
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev libpcap-dev
  # python: Debian's interpreter, pybind11, scapy, pytest
  python3 python3-dev pybind11-dev python3-pybind11 python3-scapy python3-pytest
  # network tooling for the tap/netns targets and pcap validation
  iproute2 tshark
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for a fully installed package.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

if [[ "${1:-}" == "--check" ]]; then
  echo "bootstrap: missing: ${missing[*]}" >&2
  exit 1
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "bootstrap: missing packages (${missing[*]}); run as root to install them" >&2
  exit 2
fi

echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done"
