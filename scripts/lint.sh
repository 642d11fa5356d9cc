#!/usr/bin/env bash
# Style checks, run by CTest (label "lint") and usable by hand:
#   scripts/lint.sh format            clang-format --dry-run over every C++ file
#   scripts/lint.sh format --fix      reformat in place
#   scripts/lint.sh tidy BUILD_DIR    clang-tidy over harness/, stack/, fuzz/, bench/ and python/
#                                     sources, using BUILD_DIR/compile_commands.json
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sources() {
  # Tracked and untracked-but-not-ignored files, so a new file is checked before its commit.
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard -- "$@"
  else
    find "$@" -type f 2>/dev/null
  fi
}

case "${1:-}" in
  format)
    mapfile -t files < <(sources '*.cc' '*.h' | grep -v '^build/')
    if [[ "${2:-}" == "--fix" ]]; then
      clang-format -i "${files[@]}"
    else
      clang-format --dry-run --Werror "${files[@]}"
      echo "clang-format: ${#files[@]} files clean"
    fi
    ;;
  tidy)
    build=${2:?usage: lint.sh tidy BUILD_DIR}
    [[ -f "$build/compile_commands.json" ]] || { echo "lint.sh: no $build/compile_commands.json" >&2; exit 2; }
    mapfile -t files < <(sources 'harness/*.cc' 'stack/*.cc' 'fuzz/*.cc' 'bench/*.cc' 'python/*.cc' | grep -v '_test\.cc$')
    # python/ is not built in every preset (no module in fuzz and coverage builds).
    grep -q '/python/synack_module.cc"' "$build/compile_commands.json" ||
      mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v '^python/')
    # The build may be gcc's; clang-tidy must not trip over gcc-only warning flags.
    run-clang-tidy-14 -quiet -p "$build" -j "$(nproc)" \
      -extra-arg=-Wno-unknown-warning-option "${files[@]/#/$root/}" >"$build/clang-tidy.log" 2>&1 || {
      grep -E 'warning:|error:' "$build/clang-tidy.log" | sort -u; echo "clang-tidy: failed (full log: $build/clang-tidy.log)"; exit 1; }
    echo "clang-tidy: ${#files[@]} files clean"
    ;;
  *)
    echo "usage: lint.sh format [--fix] | tidy BUILD_DIR" >&2
    exit 2
    ;;
esac
