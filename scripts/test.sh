#!/usr/bin/env bash
# Runs Tessel's whole test suite (unit, lit, e2e, conformance) in a build made by scripts/setup.sh.
#   scripts/test.sh [build-dir] [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
ninja -C "$build_dir" -j "${TESSEL_JOBS:-2}" >/dev/null
ctest --test-dir "$build_dir" --output-on-failure -j "${TESSEL_JOBS:-2}" "$@"
