#!/usr/bin/env bash
# Installs every system package Tessel needs (Debian 12, as root) and builds it.
# Idempotent: packages already present are not reinstalled, and the build is incremental.
#   scripts/setup.sh [build-dir]        (default: build)
# Environment: TESSEL_SANITIZE=address,undefined for a sanitizer build, TESSEL_BUILD_TYPE.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

packages=(
  build-essential cmake ninja-build ccache mold git python3
  libfmt-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  llvm-19-dev llvm-19-tools mlir-19-tools libmlir-19 python3-numpy
  libonnx-dev libprotobuf-dev protobuf-compiler
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake_args=(-S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${TESSEL_BUILD_TYPE:-RelWithDebInfo}")
[ -n "${TESSEL_SANITIZE:-}" ] && cmake_args+=(-DTESSEL_SANITIZE="$TESSEL_SANITIZE")
cmake "${cmake_args[@]}" >/dev/null
ninja -C "$build_dir" -j "${TESSEL_JOBS:-2}"
echo "setup: built in $build_dir"
