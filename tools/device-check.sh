#!/usr/bin/env bash
# tools/device-check.sh - gancl on a real GPU in one go: finds the NVIDIA
# OpenCL driver, builds gancl against Debian packages carried in .debs/, runs
# `gancl tune --quick`, short benchmarks and the same models in PyTorch-CUDA
# (TF32 off, and PyTorch's defaults), then the test suite, and prints one
# table (also written under $OUT when OUT is set).
#
#   tools/device-check.sh fetch     here, with network: download the .debs
#                                   into .debs/ (ignored by git)
#   tools/device-check.sh run       on the GPU machine (carry .debs)
#   tools/device-check.sh local     the same on whatever OpenCL device this
#                                   machine has (PoCL here); PyTorch-CUDA is
#                                   n/a without CUDA (DEVICE_CHECK_TORCH=cpu)
#
# The GPU machine has no network and an Ubuntu image whose /usr we must not
# touch, so the packages are unpacked with dpkg-deb into a private prefix
# (GANCL_DEPS, default /tmp/gancl-deps) and gancl is linked with an RPATH into
# it: only gancl and its tests see those libraries; cmake, ctest and python
# keep the system's.
#
# Run mode fits in 8 minutes (one command of at most 10 on the lent machine):
# each step has a limit, and a step that would start with less time left
# than it needs is skipped with a note.  Order: env, deps, build, opencl,
# tune, bench seed / dcgan / dcgan 3x64x64 / fid / ops, torch, tests, then
# the extras (the remedies bench, --profile, the demo).
#
# Environment (all optional):
#   GANCL_DEPS            private prefix for the .debs (default /tmp/gancl-deps)
#   GANCL_CHECK_DIR       build, cache and logs (default /tmp/gancl-device-check)
#   DEVICE_CHECK_DEADLINE seconds for the whole check (default 480; 2400 in
#                         local mode)
#   DEVICE_CHECK_MATCH    run mode's device: an extended regex (any case) on
#                         its `gancl list-devices --json` line (default: a GPU
#                         whose line names NVIDIA)
#   DEVICE_CHECK_PYTHON   python with torch (default: python3 or /usr/bin/python3)
#   DEVICE_CHECK_TORCH    torch's device (default cuda; cpu fills the columns
#                         on a machine without CUDA)
#   DEVICE_CHECK_WINDOWS  timed windows per benchmark (default 3)
#   DEVICE_CHECK_SECONDS  seconds per window (default 0.5)
#   DEVICE_CHECK_TEST_TIMEOUT  seconds for the test suite (default 150; 900
#                         in local mode)
#   DEVICE_CHECK_TUNE     1: run `gancl tune --quick` before the benchmarks
#                         (the default in run mode); 0: do not, and reset the
#                         check's tuning file so that the benchmarks run the
#                         shipped default (the default in local mode)
#   DEVICE_CHECK_PROFILE=1  also run `gancl bench train --profile` (dcgan)
#   DEVICE_CHECK_REMEDIES=0  skip the `bench train --remedies` row
#   DEVICE_CHECK_DEMO=DIR  also run tools/demo-oxygen.sh on the PNG folder DIR
#                         (carry it: the GPU machine has no network), its
#                         grids and table under $OUT/demo
#   DEVICE_CHECK_DEMO_SECONDS  the demo's plain run (default 90; the
#                         remedies run then takes as many steps)
#   DEVICE_CHECK_DEMO_SIZE  the demo's image size (default 64)
#   DEVICE_CHECK_DEMO_ONLY=1  build and run the demo only: no benchmarks,
#                         no PyTorch, no test suite
#   DEVICE_CHECK_CLEAN=1  start from an empty build folder
# Exit status: 0 when every step passed, 1 when one failed, 2 on bad usage.

# Steps are functions that step() calls by name.
# shellcheck disable=SC2317
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEBS=$ROOT/.debs
ARCH=x86_64-linux-gnu
PREFIX=${GANCL_DEPS:-/tmp/gancl-deps}
WORK=${GANCL_CHECK_DIR:-/tmp/gancl-device-check}
BUILD=$WORK/build
LOGS=$WORK/logs
DEADLINE=${DEVICE_CHECK_DEADLINE:-}
WINDOWS=${DEVICE_CHECK_WINDOWS:-3}
SECONDS_PER_WINDOW=${DEVICE_CHECK_SECONDS:-0.5}
TORCH_DEVICE=${DEVICE_CHECK_TORCH:-cuda}
TEST_LIMIT=${DEVICE_CHECK_TEST_TIMEOUT:-}
MATCH=${DEVICE_CHECK_MATCH:-'"type": "GPU".*nvidia|nvidia.*"type": "GPU"'}
JOBS=$(nproc 2>/dev/null || echo 2)

# What gancl's CMakeLists.txt finds (OpenCL, CLBlast, PNG, ZLIB, LAPACKE,
# cJSON, cairo, Check through pkg-config) and the libraries they need at run
# time.  Left out, because any image that runs a compiler has them or they
# are not used: libc6, libgcc-s1, libstdc++6 (newer on the GPU image),
# gcc-12-base (docs), debconf and ucf (maintainer scripts, never run), and
# libx11-data (X locales; gancl only draws on image surfaces).
PACKAGES=(
  ocl-icd-libopencl1 ocl-icd-opencl-dev opencl-c-headers
  libclblast1 libclblast-dev
  libpng16-16 libpng-dev zlib1g zlib1g-dev
  liblapacke liblapacke-dev liblapack3 libblas3 libtmglib3 libgfortran5 libquadmath0
  libcjson1 libcjson-dev
  libcairo2 libcairo2-dev libpixman-1-0 libfontconfig1 fontconfig-config fonts-dejavu-core
  libfreetype6 libbrotli1 libexpat1 libx11-6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0
  libxext6 libxrender1 libxcb-render0 libxcb-shm0
  check libsubunit0 libsubunit-dev
  pkgconf pkgconf-bin libpkgconf3
)
NOT_CARRIED=" libc6 libgcc-s1 libstdc++6 gcc-12-base debconf debconf-2.0 cdebconf ucf libx11-data "

say() { printf 'device-check: %s\n' "$*"; }
die() {
  printf 'device-check: %s\n' "$*" >&2
  exit 2
}

usage() {
  sed -n '2,/^# Exit status/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# ---- fetch: download the .debs (on a machine with Debian 12's archive) -----

# Warns about each Depends of a carried runtime package that neither the
# list nor NOT_CARRIED satisfies, so a new dependency does not go unnoticed.
check_closure() {
  local p group alt ok missing=0 runtime=()
  local -A have=()
  for p in "${PACKAGES[@]}"; do
    have[$p]=1
    case $p in *-dev | check | opencl-c-headers | pkgconf) ;; *) runtime+=("$p") ;; esac
  done
  # One line per Depends group: the package, a tab, then the group's
  # alternatives and the providers of a virtual package.
  while IFS=$'\t' read -r p group; do
    ok=0
    for alt in $group; do
      if [[ -n ${have[$alt]:-} || $NOT_CARRIED == *" $alt "* ]]; then ok=1; fi
    done
    if ((!ok)); then
      say "warning: $p depends on one of:$group (not carried)"
      missing=1
    fi
  done < <(apt-cache depends --no-recommends --no-suggests --no-enhances --no-breaks \
    --no-conflicts --no-replaces "${runtime[@]}" | awk '
      function flush() { if (cur != "") print pkg "\t" cur; cur = "" }
      /^[^ ]/ { flush(); pkg = $1; next }
      /^ *[|]?(Pre)?Depends:/ {
        if (!more) flush()
        name = $2; gsub(/[<>]/, "", name); cur = cur " " name; more = ($1 ~ /^[|]/); next }
      /^    [^ ]/ { cur = cur " " $1; next }
      { flush() }
      END { flush() }')
  return "$missing"
}

do_fetch() {
  command -v apt-get >/dev/null || die "fetch needs apt-get (a Debian 12 machine with its archive)"
  local tmp
  tmp=$(mktemp -d)
  # apt's sandbox user cannot write into a root-owned temporary folder.
  local apt_opts=(-q -o APT::Sandbox::User=root)
  say "downloading ${#PACKAGES[@]} packages"
  if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download "${PACKAGES[@]}" >/dev/null); then
    say "download failed; running apt-get update once"
    apt-get -q update >/dev/null
    (cd "$tmp" && apt-get "${apt_opts[@]}" download "${PACKAGES[@]}" >/dev/null) ||
      die "apt-get download failed"
  fi
  mkdir -p "$DEBS"
  rm -f "$DEBS"/*.deb
  mv "$tmp"/*.deb "$DEBS"/
  rmdir "$tmp"
  local exclude
  exclude=$(git -C "$ROOT" rev-parse --git-path info/exclude 2>/dev/null || echo .git/info/exclude)
  case $exclude in /*) ;; *) exclude=$ROOT/$exclude ;; esac
  mkdir -p "$(dirname "$exclude")"
  grep -qxF '/.debs/' "$exclude" 2>/dev/null || echo '/.debs/' >>"$exclude"
  check_closure || say "warning: some dependencies are not carried (see above)"
  local bytes
  bytes=$(cat "$DEBS"/*.deb | wc -c)
  say "$(find "$DEBS" -name '*.deb' | wc -l) packages in .debs/: $((bytes / 1024)) KiB" \
    "($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB)"
  say "on the device: bash tools/device-check.sh run   (carry [\".debs\"])"
}

# ---- steps --------------------------------------------------------------------

START=$(date +%s)
STEPS=()
declare -A STATUS=() SECS=() NOTE=()

left() { echo $((DEADLINE - ($(date +%s) - START))); }

record() { # name status secs note
  STEPS+=("$1")
  STATUS[$1]=$2
  SECS[$1]=$3
  NOTE[$1]=${4:-}
}

skip() { # name why
  record "$1" skipped 0 "$2"
  say "$1: skipped ($2)"
}

# Runs "$@" as step NAME with at most LIMIT seconds (less when the deadline
# is nearer), its output in $LOGS/NAME.log; SHOW=1 prints that output too,
# else only its tail on failure.  A step that would start with less than
# NEED seconds left (default 20) is skipped: cut short, it would measure
# nothing.  A shell function runs in a subshell with errexit and puts
# timeout "$STEP_LIMIT" before its long commands; its exports do not reach
# us, so such a function leaves shell lines in $WORK/env.sh, which is
# sourced afterwards.
step() {
  local name=$1 limit=$2 need=${NEED:-20}
  shift 2
  local remaining
  remaining=$(left)
  if ((remaining < need)); then
    skip "$name" "out of time: ${remaining} s left of DEVICE_CHECK_DEADLINE=$DEADLINE, needs $need"
    return 1
  fi
  ((limit <= remaining)) || limit=$remaining
  local log=$LOGS/$name.log t0 rc
  t0=$(date +%s)
  say "$name ..."
  : >"$WORK/env.sh"
  set +e
  if declare -F "$1" >/dev/null; then
    STEP_LIMIT=$limit
    (
      set -e
      "$@"
    ) >"$log" 2>&1
    rc=$?
  else
    timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1
    rc=$?
  fi
  set -e
  # shellcheck source=/dev/null
  . "$WORK/env.sh"
  local secs=$(($(date +%s) - t0))
  if [[ ${SHOW:-0} == 1 ]]; then sed 's/^/    /' "$log"; fi
  if ((rc == 0)); then
    record "$name" ok "$secs"
    say "$name: ok (${secs} s)"
    return 0
  fi
  local why="exit $rc"
  ((rc == 124 || rc == 137)) && why="timed out after ${limit} s"
  record "$name" FAILED "$secs" "$why"
  if [[ ${SHOW:-0} != 1 ]]; then tail -n 40 "$log" | sed 's/^/    /'; fi
  say "$name: FAILED ($why, ${secs} s; log: $log)"
  return 1
}

# ---- env: what the machine has ----------------------------------------------

step_env() {
  local ok=1 cc
  echo "host: $(uname -srm), $JOBS cores"
  [[ $(uname -m) == x86_64 ]] || {
    echo "error: $(uname -m): the carried .debs are amd64"
    ok=0
  }
  cc=$(command -v "${CC:-cc}" || command -v gcc || command -v clang || true)
  if [[ -n $cc ]]; then
    echo "C compiler: $cc ($("$cc" --version | head -n 1))"
  else
    echo "error: no C compiler (cc, gcc or clang) on PATH"
    ok=0
  fi
  if command -v cmake >/dev/null; then
    echo "cmake: $(command -v cmake) ($(cmake --version | head -n 1))"
  else
    echo "error: no cmake on PATH"
    ok=0
  fi
  echo "generator: $(command -v ninja || command -v make || echo 'none: error')"
  command -v ninja >/dev/null || command -v make >/dev/null || ok=0
  command -v dpkg-deb >/dev/null || command -v ar >/dev/null ||
    echo "warning: neither dpkg-deb nor ar: the .debs cannot be unpacked"
  if command -v nvidia-smi >/dev/null; then
    local gpus
    gpus=$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total \
      --format=csv,noheader 2>&1) || true
    echo "$gpus"
    # For the report: name, driver and memory of each GPU.
    printf 'NVSMI=%q\n' "$(printf '%s\n' "$gpus" |
      sed -E 's/^([^,]*), *([^,]*), */\1, driver \2, /' | paste -s -d ';' - |
      sed 's/;/; /g')" >>"$WORK/env.sh"
  else
    echo "nvidia-smi: not on PATH"
  fi
  ((ok))
}

# ---- deps: the .debs, unpacked into a private prefix --------------------------

LIB=$PREFIX/usr/lib/$ARCH
INC=$PREFIX/usr/include

step_deps() {
  local stamp
  stamp=$(find "$DEBS" -name '*.deb' -printf '%f %s\n' | sort | md5sum | cut -d' ' -f1)
  if [[ -f $PREFIX/.stamp && $(cat "$PREFIX/.stamp") == "$stamp" ]]; then
    echo "$PREFIX is up to date"
    return 0
  fi
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  local deb n=0
  for deb in "$DEBS"/*.deb; do
    if command -v dpkg-deb >/dev/null; then
      dpkg-deb -x "$deb" "$PREFIX"
    else # ar + tar, for an image without dpkg
      local member
      member=$(ar t "$deb" | grep '^data\.tar')
      ar p "$deb" "$member" | tar -x -a -f - -C "$PREFIX" 2>/dev/null ||
        ar p "$deb" "$member" | tar -x -J -f - -C "$PREFIX"
    fi
    n=$((n + 1))
  done
  echo "unpacked $n packages into $PREFIX"

  # Debian 12 puts some libraries in /lib: merge them into /usr/lib as a
  # merged-/usr system would, so that one folder holds every library.
  mkdir -p "$LIB"
  if [[ -d $PREFIX/lib/$ARCH ]]; then
    cp -a "$PREFIX/lib/$ARCH/." "$LIB/"
    rm -rf "${PREFIX:?}/lib"
  fi
  # Absolute links (libz.so -> /lib/..., fontconfig's conf.d) point into the prefix.
  local link target
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    [[ $target == /* ]] || continue
    if [[ -e $PREFIX$target ]]; then
      ln -sfn "$PREFIX$target" "$link"
    elif [[ -e $PREFIX/usr$target ]]; then
      ln -sfn "$PREFIX/usr$target" "$link"
    else
      echo "warning: $link -> $target points outside the prefix"
    fi
  done < <(find "$PREFIX" -type l -print0)
  # BLAS and LAPACK live in subfolders and are linked by update-alternatives,
  # which dpkg-deb -x does not run.
  local f
  for f in "$LIB"/blas/lib*.so* "$LIB"/lapack/lib*.so*; do
    [[ -e $f && ! -e $LIB/$(basename "$f") ]] && ln -s "$f" "$LIB/$(basename "$f")"
  done
  # pkg-config files: the prefix instead of /usr, and no Requires.private
  # (cairo's names a dozen -dev packages that a shared-library build of gancl
  # never needs).
  local pc
  for pc in "$LIB"/pkgconfig/*.pc "$PREFIX"/usr/share/pkgconfig/*.pc; do
    [[ -f $pc ]] || continue
    sed -i -E "s#^([A-Za-z_]+)=/usr#\\1=$PREFIX/usr#; /^Requires\\.private:/d" "$pc"
  done
  mkdir -p "$PREFIX/bin"
  cat >"$PREFIX/bin/pkg-config" <<EOF
#!/bin/sh
# pkgconf from the prefix, seeing only the prefix's .pc files.
LD_LIBRARY_PATH=$LIB\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} \\
PKG_CONFIG_LIBDIR=$LIB/pkgconfig:$PREFIX/usr/share/pkgconfig \\
exec $PREFIX/usr/bin/pkgconf "\$@"
EOF
  chmod +x "$PREFIX/bin/pkg-config"
  # fontconfig: the prefix's fonts and rules, a cache it may write.
  mkdir -p "$PREFIX/etc/fonts" "$PREFIX/var/cache/fontconfig"
  cat >"$PREFIX/etc/fonts/gancl.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>$PREFIX/usr/share/fonts</dir>
  <dir>/usr/share/fonts</dir>
  <cachedir>$PREFIX/var/cache/fontconfig</cachedir>
  <include ignore_missing="yes">$PREFIX/etc/fonts/conf.d</include>
</fontconfig>
EOF
  local need
  for need in "$LIB/libOpenCL.so" "$LIB/libclblast.so" "$LIB/libpng16.so" "$LIB/libz.so" \
    "$LIB/liblapacke.so" "$LIB/liblapack.so.3" "$LIB/libblas.so.3" "$LIB/libcjson.so" \
    "$LIB/libcairo.so" "$LIB/libcheck_pic.a" "$INC/CL/cl.h" "$INC/clblast_c.h" \
    "$INC/lapacke.h" "$INC/cairo/cairo.h" "$PREFIX/usr/bin/pkgconf"; do
    [[ -e $need ]] || {
      echo "error: $need missing after unpacking (run tools/device-check.sh fetch again)"
      return 1
    }
  done
  "$PREFIX/bin/pkg-config" --cflags --libs cairo libcjson check
  echo "$stamp" >"$PREFIX/.stamp"
}

# ---- build ------------------------------------------------------------------

CMAKE_HINTS=()

set_hints() {
  CMAKE_HINTS=(
    "-DCMAKE_PREFIX_PATH=$PREFIX/usr"
    "-DPKG_CONFIG_EXECUTABLE=$PREFIX/bin/pkg-config"
    "-DOpenCL_INCLUDE_DIR=$INC" "-DOpenCL_LIBRARY=$LIB/libOpenCL.so"
    "-DPNG_PNG_INCLUDE_DIR=$INC" "-DPNG_LIBRARY=$LIB/libpng16.so"
    "-DPNG_LIBRARY_RELEASE=$LIB/libpng16.so"
    "-DZLIB_INCLUDE_DIR=$INC" "-DZLIB_LIBRARY=$LIB/libz.so" "-DZLIB_LIBRARY_RELEASE=$LIB/libz.so"
    "-DCLBLAST_LIBRARY=$LIB/libclblast.so" "-DCLBLAST_INCLUDE_DIR=$INC"
    "-DLAPACKE_LIBRARY=$LIB/liblapacke.so" "-DLAPACKE_INCLUDE_DIR=$INC"
    # DT_RPATH (not RUNPATH) also serves the libraries' own dependencies
    # (cairo's X11, LAPACK's gfortran); -rpath-link lets ld find them.
    "-DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags -Wl,-rpath,$LIB -Wl,-rpath-link,$LIB"
  )
  export FONTCONFIG_FILE=$PREFIX/etc/fonts/gancl.conf
}

step_build() {
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  if [[ -f $BUILD/CMakeCache.txt ]]; then
    local had
    had=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$BUILD/CMakeCache.txt")
    [[ $had == "${gen[1]:-Unix Makefiles}" ]] || rm -rf "$BUILD"
  fi
  # Configure and build share the step's limit.
  local t0=$SECONDS
  timeout $((STEP_LIMIT < 120 ? STEP_LIMIT : 120)) cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DGANCL_WERROR=OFF "${CMAKE_HINTS[@]}"
  timeout --kill-after=10 $((STEP_LIMIT - (SECONDS - t0) > 5 ? STEP_LIMIT - (SECONDS - t0) : 5)) \
    cmake --build "$BUILD" -j"$JOBS"
  echo "warnings: $(grep -c 'warning:' "$LOGS/build.log" || true)"
  command -v ldd >/dev/null || return 0
  echo "libraries of gancl:"
  ldd "$BUILD/gancl" | sed 's/^/  /'
  if ((${#CMAKE_HINTS[@]})) && ldd "$BUILD/gancl" | grep -q 'not found'; then
    echo "error: gancl has unresolved libraries"
    return 1
  fi
}

# ---- opencl: the driver and the device --------------------------------------

DEV_INDEX=""
ICD_MODE=""
DEV_NAME=""
DEV_DRIVER=""

find_nvidia_opencl() {
  local d f dirs=()
  IFS=: read -ra dirs <<<"${LD_LIBRARY_PATH:-}"
  dirs+=(/usr/local/nvidia/lib64 /usr/local/nvidia/lib "/usr/lib/$ARCH" /usr/lib64 /usr/lib
    "/lib/$ARCH")
  for d in "${dirs[@]}"; do
    [[ -n $d ]] || continue
    for f in "$d"/libnvidia-opencl.so.1 "$d"/libnvidia-opencl.so.*; do
      [[ -e $f ]] && {
        echo "$f"
        return 0
      }
    done
  done
  f=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so/ { print $NF; exit }')
  [[ -n $f && -e $f ]] && echo "$f"
}

# An .icd file naming the driver by its absolute path: in /etc/OpenCL/vendors
# when that can be written, else in a folder of ours named by OCL_ICD_VENDORS.
# An existing NVIDIA .icd is kept unless PRIVATE=1.
step_icd() {
  local lib icd
  lib=$(find_nvidia_opencl) || true
  if [[ -z $lib ]]; then
    echo "error: libnvidia-opencl.so not found in LD_LIBRARY_PATH, /usr/local/nvidia/lib64," \
      "/usr/lib/$ARCH or the ldconfig cache"
    ls -l /usr/local/nvidia/lib64/*opencl* /usr/local/nvidia/lib64/libcuda.so* 2>&1 || true
    return 1
  fi
  echo "driver: $lib"
  local dir
  dir=$(dirname "$lib")
  # The driver loads its siblings (libcuda, the PTX JIT) by name.
  if ! ldconfig -p 2>/dev/null | grep -q "$dir/"; then
    case ":${LD_LIBRARY_PATH:-}:" in
      *":$dir:"*) ;;
      *)
        echo "export LD_LIBRARY_PATH=\${LD_LIBRARY_PATH:+\$LD_LIBRARY_PATH:}$dir" >>"$WORK/env.sh"
        ;;
    esac
  fi
  if [[ ${PRIVATE:-0} != 1 ]]; then
    for icd in /etc/OpenCL/vendors/*.icd; do
      if [[ -f $icd ]] && grep -qi nvidia "$icd"; then
        echo "using $icd: $(cat "$icd")"
        echo "ICD_MODE=existing" >>"$WORK/env.sh"
        return 0
      fi
    done
    if { mkdir -p /etc/OpenCL/vendors && echo "$lib" >/etc/OpenCL/vendors/nvidia.icd; } 2>/dev/null
    then
      echo "wrote /etc/OpenCL/vendors/nvidia.icd: $lib"
      echo "ICD_MODE=etc" >>"$WORK/env.sh"
      return 0
    fi
    echo "/etc/OpenCL/vendors is not writable"
  fi
  mkdir -p "$WORK/vendors"
  echo "$lib" >"$WORK/vendors/nvidia.icd"
  echo "export OCL_ICD_VENDORS=$WORK/vendors; ICD_MODE=private" >>"$WORK/env.sh"
  echo "wrote $WORK/vendors/nvidia.icd: $lib (OCL_ICD_VENDORS=$WORK/vendors)"
}

# Picks the device from `gancl list-devices --json`: in run mode the first
# whose line matches $MATCH (an NVIDIA GPU), in local mode the first OpenCL
# device of any kind.
pick_device() {
  local json line
  json=$(timeout 60 "$BUILD/gancl" list-devices --json 2>&1) || true
  printf '%s\n' "$json" >>"$LOGS/opencl.log"
  line=$(printf '%s\n' "$json" | grep '"index": [0-9]' |
    if [[ $MODE == local ]]; then cat; else grep -i -E "$MATCH"; fi | head -n 1) || true
  [[ -n $line ]] || return 1
  DEV_INDEX=$(sed -E 's/.*"index": ([0-9]+).*/\1/' <<<"$line")
  DEV_NAME=$(sed -E 's/.*"name": "([^"]*)".*/\1/' <<<"$line")
  DEV_DRIVER=$(sed -E -n 's/.*"driver_version": "([^"]*)".*/\1/p' <<<"$line")
}

# ---- benchmarks -----------------------------------------------------------------

# A step's limit in run mode (the GPU) or in local mode (PoCL on a few cores).
lim() { if [[ $MODE == run ]]; then echo "$1"; else echo "$2"; fi; }

declare -A GANCL=() TORCH_FP32=() TORCH_DEF=() LABEL=()
ROWS=()

row() { # key label
  [[ -n ${LABEL[$1]:-} ]] || ROWS+=("$1")
  LABEL[$1]=$2
}

# The table's rows in their order; bench ops and PyTorch's gemm add theirs.
rows_init() {
  row "train seed" "train seed 1×28×28, batch 64 (img/s)"
  row "train dcgan" "train dcgan 1×28×28 (G 128, D 64), batch 64 (img/s)"
  row "train dcgan 64px" "train dcgan 3×64×64 (G 512, D 64), batch 64 (img/s)"
  [[ $REMEDIES != 1 ]] ||
    row "train dcgan 64px remedies" "train dcgan 3×64×64 + remedies, batch 64 (img/s)"
  row inception "Inception-v3 (FID), batch 50 (img/s)"
}

img_rate() { grep -o -E '[0-9.]+ *img/s' "$1" | head -n 1 | grep -o -E '^[0-9.]+' || true; }

bench_train() { # key, step name, limit, then bench train's model flags
  local key=$1 name=$2 limit=$3
  shift 3
  SHOW=1 step "$name" "$limit" "$BUILD/gancl" bench train --device "$DEV_INDEX" "$@" \
    --windows "$WINDOWS" --seconds "$SECONDS_PER_WINDOW" || return 0
  GANCL[$key]=$(img_rate "$LOGS/$name.log")
}

# `gancl tune --quick` before the benchmarks, so that they run its choice;
# without it the check's own tuning file is deleted (an earlier check's
# choice would otherwise stay in force) and the shipped default runs.
TUNE_NOTE="not run"
tune() {
  local log=$LOGS/tune.log choice in_use
  if [[ $TUNE == 1 ]]; then
    SHOW=1 NEED=30 step tune "$(lim 120 900)" "$BUILD/gancl" tune --device "$DEV_INDEX" --quick ||
      true
    [[ -f $log ]] || {
      TUNE_NOTE="not run (${NOTE[tune]:-skipped})"
      return 0
    }
    choice=$(sed -n 's/^fastest: //p' "$log" | tail -n 1)
    in_use=$(sed -n 's/^in use: //p' "$log" | head -n 1)
    if [[ -n $choice ]]; then
      TUNE_NOTE="\`gancl tune --quick\` chose \`$choice\` (the benchmarks and the suite run it)"
      NOTE[tune]="fastest: $choice"
    else
      TUNE_NOTE="\`gancl tune --quick\` ${STATUS[tune]}; the benchmarks ran \`${in_use:-?}\`"
    fi
  else
    step tune-reset "$(lim 60 300)" "$BUILD/gancl" tune --device "$DEV_INDEX" --reset || true
    choice=$(sed -n 's/^deleted; the shipped default is: //p' "$LOGS/tune-reset.log" 2>/dev/null)
    TUNE_NOTE="not tuned (DEVICE_CHECK_TUNE=0): the shipped default \`${choice:-?}\`"
    [[ -z $choice ]] || NOTE[tune-reset]="shipped default: $choice"
  fi
}

demo() {
  local dir=${DEVICE_CHECK_DEMO:-}
  [[ -n $dir ]] || return 0
  if [[ ! -d $dir ]]; then
    record demo FAILED 0 "DEVICE_CHECK_DEMO=$dir is not a folder"
    return 0
  fi
  local secs=${DEVICE_CHECK_DEMO_SECONDS:-90} size=${DEVICE_CHECK_DEMO_SIZE:-64}
  SHOW=1 step demo $((3 * secs + 60)) "$ROOT/tools/demo-oxygen.sh" --gancl "$BUILD/gancl" \
    --device "$DEV_INDEX" --data "$dir" --size "$size" --seconds "$secs" --out "$WORK/demo" ||
    true
  # At most 8 files come back from the GPU machine, three of them the report.
  if [[ -n ${OUT:-} ]]; then
    mkdir -p "$OUT/demo"
    local name f
    for name in plain remedies; do
      [[ -f $WORK/demo/$name-final.png ]] && cp "$WORK/demo/$name-final.png" "$OUT/demo/"
      for f in diversity.csv losses.png; do
        [[ -f $WORK/demo/$name/$f ]] && cp "$WORK/demo/$name/$f" "$OUT/demo/$name-$f"
      done
    done
  fi
}

bench_fid() {
  SHOW=1 step bench-fid "$(lim 60 300)" "$BUILD/gancl" bench fid --device "$DEV_INDEX" \
    --seconds "$(awk -v w="$WINDOWS" -v s="$SECONDS_PER_WINDOW" 'BEGIN { print w * s }')" ||
    return 0
  GANCL[inception]=$(img_rate "$LOGS/bench-fid.log")
}

bench_ops() {
  local line name
  SHOW=1 step bench-ops "$(lim 60 300)" "$BUILD/gancl" bench ops --device "$DEV_INDEX" \
    --windows "$WINDOWS" --window 0.1 || return 0
  # Rows are "<case>  <ms/run>  <GFLOP/s>"; the case name has spaces.
  while IFS=$'\t' read -r name line; do
    row "$name" "$name (GFLOP/s)"
    GANCL[$name]=$line
  done < <(awk '$NF ~ /^[0-9.]+$/ && $(NF-1) ~ /^[0-9.]+$/ && NF > 2 {
                  v = $NF; NF -= 2; print $0 "\t" v }' "$LOGS/bench-ops.log")
}

TORCH_DESC=""
TORCH_MODES=""

pick_python() {
  local py
  for py in ${DEVICE_CHECK_PYTHON:-python3 /usr/bin/python3}; do
    # find_spec: whether torch is there, without the seconds of importing it
    if command -v "$py" >/dev/null && "$py" -c 'import importlib.util, sys
sys.exit(importlib.util.find_spec("torch") is None)' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

# One run of bench_torch.py measures every model with TF32 off (plain fp32,
# the fair comparison), then every model with PyTorch's default settings:
# one import of torch and one CUDA start-up serve both.  Its --budget ends
# it cleanly before the step's limit, with what it measured.
TORCH_PY=""
step_torch() {
  PYTHONUNBUFFERED=1 timeout --kill-after=10 "$STEP_LIMIT" "$TORCH_PY" \
    "$ROOT/tools/bench_torch.py" --device "$TORCH_DEVICE" --tf32 off,default \
    --model seed,dcgan,dcgan64,inception,gemm --threads "$JOBS" --windows "$WINDOWS" \
    --window "$SECONDS_PER_WINDOW" --budget $((STEP_LIMIT * 3 / 4)) --json "$WORK/torch.json"
}

bench_torch() {
  local py json=$WORK/torch.json
  if ! py=$(pick_python); then
    skip torch "no python with torch"
    return 0
  fi
  rm -f "$json"
  TORCH_PY=$py
  SHOW=1 NEED=45 step torch "$(lim 180 900)" step_torch || true
  if [[ ${STATUS[torch]} == FAILED && ${NOTE[torch]} == "exit 3" ]]; then
    # No CUDA for this torch: expected in local mode, a failure on the GPU machine.
    NOTE[torch]="$TORCH_DEVICE is not available to torch in $py"
    [[ $MODE == run ]] || STATUS[torch]=skipped
  fi
  [[ -f $json ]] || return 0
  local key mode value
  while IFS=$'\t' read -r key mode value; do
    case $key in
      "#desc") TORCH_DESC=$mode ;;
      "#modes") TORCH_MODES=$mode ;;
      "#skipped") NOTE[torch]="${NOTE[torch]:+${NOTE[torch]}; }$mode figures skipped (--budget)" ;;
      *)
        case $key in
          seed | dcgan) key="train $key" ;;
          dcgan64) key="train dcgan 64px" ;;
          inception) ;;
          *) row "$key" "$key (GFLOP/s)" ;; # gemm rows, present without gancl's too
        esac
        if [[ $mode == off ]]; then TORCH_FP32[$key]=$value; else TORCH_DEF[$key]=$value; fi
        ;;
    esac
  done < <("$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
e = d.get("env", {})
if e.get("cuda") and d["device"] != "cpu":
    lib = "CUDA %s, cuDNN %s" % (e["cuda"], e.get("cudnn") or "n/a")
else:
    lib = "oneDNN %s, MKL %s, BLAS %s" % (e.get("onednn") or "n/a", e.get("mkl") or "n/a",
                                         " ".join(e.get("blas") or []) or e.get("blas_info"))
print("#desc\ttorch %s (%s) on %s, %s threads; CPU %s (%s logical CPUs)" % (
    d["torch"], lib, d["device"], e.get("threads"), e.get("cpu"), e.get("cpus")))
print("#modes\t" + "; ".join("%s: convolutions %s, matrix products %s" % (
    m, v["conv"], v["matmul"]) for m, v in d.get("modes", {}).items()))
if d.get("skipped"):
    print("#skipped\t%d" % len(d["skipped"]))
for r in d["results"]:
    print("%s\t%s\t%.1f" % (r["figure"], r.get("tf32", "off"), r["value"]))' "$json")
}

# ---- the table ------------------------------------------------------------------

# From ctest's progress lines, so that a suite stopped by the deadline still
# says what passed, what failed and what had not finished.
test_summary() {
  local log=$LOGS/tests.log
  if [[ ! -f $log ]]; then
    echo "tests: not run"
    return 0
  fi
  awk '
    /^ *Start +[0-9]+: / { started[$NF] = 1; next }
    /^ *[0-9]+\/[0-9]+ +Test +#[0-9]+: / {
      split($1, a, "/"); total = a[2]; name = $4
      st = $0; sub(/^.*#[0-9]+: +[^ ]+ +\.* *\**/, "", st); sub(/ +[0-9.]+ sec.*$/, "", st)
      gsub(/\*+/, " ", st)
      done[name] = 1; n++
      if (st == "Passed") pass++
      else if (st ~ /^(Skipped|Not Run)/) { skip++; skipped = skipped " " name }
      else bad = bad "\n  " name ": " st
      next }
    /tests passed, .* out of/ { summary = $0 }
    END {
      if (n == 0 && summary == "") {
        getline first < FILENAME
        print "tests: no results: " first
        exit
      }
      for (t in started) if (!(t in done)) running = running " " t
      printf "tests: %d passed, %d failed, %d skipped, of %d", pass, n - pass - skip, skip, total
      if (summary == "") printf " (ctest stopped early: %d finished)", n
      print ""
      if (bad != "") print "failed:" bad
      if (skipped != "") print "skipped:" skipped
      if (running != "") print "still running when stopped:" running
    }' "$log"
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a + 0 > 0 && b + 0 > 0) printf "%.2f×", a / b; else printf "n/a" }'
}

report() {
  local k g t d dev tname
  dev=${DEV_NAME:-no OpenCL device}
  [[ -z $DEV_INDEX ]] || dev="OpenCL device $DEV_INDEX, $dev"
  [[ -z $DEV_DRIVER ]] || dev="$dev, driver $DEV_DRIVER"
  case $TORCH_DEVICE in cuda*) tname=PyTorch-CUDA ;; *) tname=PyTorch-CPU ;; esac
  echo
  echo "## gancl device check ($MODE), $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $JOBS cores"
  echo
  [[ -z $NVSMI ]] || echo "- **GPU** (nvidia-smi): $NVSMI"
  echo "- **gancl:** $dev"
  echo "- **tuning:** $TUNE_NOTE"
  echo "- **PyTorch:** ${TORCH_DESC:-not run${NOTE[torch]:+ (${NOTE[torch]})}}"
  [[ -z $TORCH_MODES ]] || echo "- **PyTorch's fp32 math:** $TORCH_MODES"
  echo "- **$(test_summary | head -n 1)**"
  if ((${#ROWS[@]})); then
    echo
    echo "| figure | gancl (OpenCL) | $tname FP32 (TF32 off) | ratio" \
      "| $tname default (TF32) | ratio |"
    echo "|---|---:|---:|---:|---:|---:|"
    for k in "${ROWS[@]}"; do
      g=${GANCL[$k]:-n/a}
      t=${TORCH_FP32[$k]:-n/a}
      d=${TORCH_DEF[$k]:-n/a}
      case $k in
        "train seed" | "train dcgan" | "train dcgan 64px" | inception | "gemm "*) ;;
        *) # the remedies, a layer of bench ops: bench_torch.py has no such figure
          echo "| ${LABEL[$k]} | $g | — | | — | |"
          continue
          ;;
      esac
      echo "| ${LABEL[$k]} | $g | $t | $(ratio "$g" "$t") | $d | $(ratio "$g" "$d") |"
    done
    echo
    echo "ratio: gancl / PyTorch (above 1: gancl is faster).  The FP32 column is the fair" \
      "comparison: gancl computes in plain fp32, as PyTorch does with TF32 off" \
      "(cudnn.allow_tf32 and cuda.matmul.allow_tf32 False).  The default column is PyTorch" \
      "as it comes (TF32 for cuDNN's convolutions), for information; cudnn.benchmark is on" \
      "in both."
    if [[ $TORCH_DEVICE != cuda* ]]; then
      echo "On the CPU the TF32 settings have no effect: both PyTorch columns are the same" \
        "computation measured one after the other, so their difference is run-to-run noise."
      if [[ $TORCH_DESC == */blas/libblas.so* ]]; then
        echo "This PyTorch runs on the reference BLAS (Debian's libblas3), far below its best" \
          "configuration: docs/PERFORMANCE.md gives that (OpenBLAS, OPENBLAS_NUM_THREADS=1)."
      fi
    fi
    echo "Benchmarks: $WINDOWS windows of ${SECONDS_PER_WINDOW} s, median.  PyTorch's" \
      "training steps are gancl's: the real batch copied from the host each step, D on the" \
      "real and the fake batch, Adam, then G's loss through D without D's weight gradients." \
      "Its Inception-v3 is torchvision's, to the 2048-d pool features, fed 28×28 gray" \
      "batches resized to 299×299 and read back, as \`gancl bench fid\` does."
  fi
  echo
  test_summary
  echo
  echo "| step | status | seconds | note |"
  echo "|---|---|---:|---|"
  for k in "${STEPS[@]}"; do
    echo "| $k | ${STATUS[$k]} | ${SECS[$k]} | ${NOTE[$k]} |"
  done
  echo
  echo "total: $(($(date +%s) - START)) s of DEVICE_CHECK_DEADLINE=$DEADLINE; logs: $LOGS"
}

# ---- main -----------------------------------------------------------------------

MODE=${1:-}
case $MODE in
  fetch)
    do_fetch
    exit 0
    ;;
  run | --run) MODE=run ;;
  local | --local) MODE=local ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac

[[ ${DEVICE_CHECK_CLEAN:-0} == 1 ]] && rm -rf "$BUILD"
rm -rf "$LOGS"
mkdir -p "$LOGS" "$WORK"
# gancl's kernel binaries and tuning files: ours alone, not ~/.cache's.
export XDG_CACHE_HOME=$WORK/cache
mkdir -p "$XDG_CACHE_HOME"
# Run mode's 480 s, as the H200 took them (build 60-90 s, suite 69 s, each
# gancl bench 10-20 s, PyTorch about 60 s a mode) with the tuner's minute:
# the benchmarks and PyTorch come before the suite, the extras after it.
# Two shared cores running PoCL need far longer than the GPU machine.
if [[ $MODE == run ]]; then
  DEADLINE=${DEADLINE:-480}
  TEST_LIMIT=${TEST_LIMIT:-150}
  TUNE=${DEVICE_CHECK_TUNE:-1}
else
  DEADLINE=${DEADLINE:-2400}
  TEST_LIMIT=${TEST_LIMIT:-900}
  TUNE=${DEVICE_CHECK_TUNE:-0}
fi
REMEDIES=${DEVICE_CHECK_REMEDIES:-1}
NVSMI=""
say "mode $MODE, repo $ROOT, work $WORK, deadline ${DEADLINE} s, tune $TUNE"

built=0
have_env=0
step env 30 step_env && have_env=1

if [[ -d $DEBS ]] && compgen -G "$DEBS/*.deb" >/dev/null; then
  step deps "$(lim 120 300)" step_deps && set_hints
else
  skip deps "no .debs/ (run 'fetch' here, carry .debs): using the system's packages"
fi
if ((have_env)) && [[ ${STATUS[deps]} != FAILED ]]; then
  NEED=60 step build "$(lim 240 1200)" step_build && built=1
else
  skip build "no toolchain or no packages"
fi

device=0
if ((built)); then
  if [[ $MODE == run ]]; then
    if step opencl 30 step_icd; then
      if ! pick_device && [[ $ICD_MODE != private ]]; then
        say "no NVIDIA GPU through the .icd found; trying a private one with the absolute path"
        : >"$WORK/env.sh"
        # shellcheck source=/dev/null
        PRIVATE=1 step_icd >>"$LOGS/opencl.log" 2>&1 && . "$WORK/env.sh"
        pick_device || true
      fi
      if [[ -z $DEV_INDEX ]]; then
        STATUS[opencl]=FAILED
        NOTE[opencl]="the driver shows no NVIDIA GPU (see $LOGS/opencl.log)"
      fi
    fi
  else
    record opencl ok 0
    pick_device || {
      STATUS[opencl]=FAILED
      NOTE[opencl]="no OpenCL device"
    }
  fi
  timeout 60 "$BUILD/gancl" list-devices 2>&1 | tee -a "$LOGS/opencl.log" | sed 's/^/    /' || true
  if [[ -n $DEV_INDEX ]]; then
    device=1
    say "device $DEV_INDEX: $DEV_NAME ($DEV_DRIVER)"
    NOTE[opencl]="device $DEV_INDEX: $DEV_NAME"
  else
    say "opencl: ${NOTE[opencl]:-FAILED}"
  fi
fi

ONLY_DEMO=${DEVICE_CHECK_DEMO_ONLY:-0}
[[ $ONLY_DEMO == 1 ]] || rows_init
if ((device)) && [[ $ONLY_DEMO == 1 ]]; then
  demo
elif ((device)); then
  tune
  bench_train "train seed" bench-seed "$(lim 45 300)" --model seed
  bench_train "train dcgan" bench-dcgan "$(lim 45 300)" --model dcgan
  bench_train "train dcgan 64px" bench-64px "$(lim 60 600)" --model dcgan --size 64 --channels 3
  bench_fid
  bench_ops
elif ((built)); then
  skip gancl-bench "no OpenCL device"
else
  skip gancl-bench "nothing built"
fi
[[ $ONLY_DEMO == 1 ]] || bench_torch

# The suite after the benchmarks, which are what this check is for: they are
# bounded, the suite's time is not, and what it has finished when the
# deadline comes is still reported.  It runs the tuned choice too.
if [[ $ONLY_DEMO == 1 ]]; then
  skip tests "DEVICE_CHECK_DEMO_ONLY=1"
elif ((built)); then
  if ((device)); then
    GANCL_REQUIRE_OPENCL=1 GANCL_TEST_DEVICE=$DEV_INDEX GANCL_DEVICE=$DEV_INDEX NEED=60 \
      step tests "$TEST_LIMIT" ctest --test-dir "$BUILD" -j"$JOBS" --timeout "$TEST_LIMIT" \
      --output-on-failure || true
  else # still worth knowing that the CPU side passes on this image
    NEED=60 step tests "$TEST_LIMIT" ctest --test-dir "$BUILD" -j"$JOBS" --timeout "$TEST_LIMIT" \
      --output-on-failure || true
  fi
else
  skip tests "nothing built"
fi

# The extras, in what time is left.
if ((device)) && [[ $ONLY_DEMO != 1 ]]; then
  if [[ $REMEDIES == 1 ]]; then
    bench_train "train dcgan 64px remedies" bench-64px-remedies "$(lim 60 600)" --model dcgan \
      --size 64 --channels 3 --remedies
  fi
  if [[ ${DEVICE_CHECK_PROFILE:-0} == 1 ]]; then
    SHOW=1 step profile "$(lim 60 300)" "$BUILD/gancl" bench train --model dcgan \
      --device "$DEV_INDEX" --windows 2 --seconds "$SECONDS_PER_WINDOW" --profile || true
  fi
  demo
fi

failed=0
for k in "${STEPS[@]}"; do [[ ${STATUS[$k]} == FAILED ]] && failed=1; done
text=$(report)
printf '%s\n' "$text"
if [[ -n ${OUT:-} ]]; then
  mkdir -p "$OUT"
  printf '%s\n' "$text" >"$OUT/device-check.md"
  for k in "${STEPS[@]}"; do
    [[ -f $LOGS/$k.log ]] || continue
    printf '\n===== %s (%s) =====\n' "$k" "${STATUS[$k]}"
    cat "$LOGS/$k.log"
  done >"$OUT/device-check.log"
  [[ -f $WORK/torch.json ]] && cp "$WORK/torch.json" "$OUT/torch.json"
  say "wrote $OUT/device-check.md and $OUT/device-check.log"
fi
exit "$failed"
