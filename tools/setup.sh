#!/usr/bin/env bash
# tools/setup.sh - installs what gancl needs (Debian 12 packages) when it is
# missing, then configures and builds gancl into build/.  Idempotent: a
# second run installs nothing and rebuilds only what changed.
#
#   tools/setup.sh              release build in build/
#   tools/setup.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config
  ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd clinfo
  libclblast-dev libpng-dev zlib1g-dev libcjson-dev libcairo2-dev liblapacke-dev
  check dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install packages" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=build
args=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan
  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANCL_SANITIZE=ON)
fi

cmake -S . -B "$build" "${args[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
echo "setup: built $build/gancl"
