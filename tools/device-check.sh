#!/usr/bin/env bash
# tools/device-check.sh - gancl on a real GPU in one go: finds the NVIDIA
# OpenCL driver, builds gancl against Debian packages carried in .debs/, runs
# the test suite and short benchmarks, times the same models in PyTorch-CUDA,
# and prints one table (also written under $OUT when OUT is set).
#
#   tools/device-check.sh fetch     here, with network: download the .debs
#                                   into .debs/ (ignored by git)
#   tools/device-check.sh run       on the GPU machine (carry .debs)
#   tools/device-check.sh local     the same on whatever OpenCL device this
#                                   machine has (PoCL here); PyTorch-CUDA is
#                                   n/a without CUDA
#
# The GPU machine has no network and an Ubuntu image whose /usr we must not
# touch, so the packages are unpacked with dpkg-deb into a private prefix
# (GANCL_DEPS, default /tmp/gancl-deps) and gancl is linked with an RPATH into
# it: only gancl and its tests see those libraries; cmake, ctest and python
# keep the system's.
#
# Environment (all optional):
#   GANCL_DEPS            private prefix for the .debs (default /tmp/gancl-deps)
#   GANCL_CHECK_DIR       build, cache and logs (default /tmp/gancl-device-check)
#   DEVICE_CHECK_DEADLINE seconds for the whole check (default 280; 1500 in
#                         local mode); a step that would start with under
#                         20 s left is skipped
#   DEVICE_CHECK_MATCH    run mode's device: an extended regex (any case) on
#                         its `gancl list-devices --json` line (default: a GPU
#                         whose line names NVIDIA)
#   DEVICE_CHECK_PYTHON   python with torch (default: python3 or /usr/bin/python3)
#   DEVICE_CHECK_TORCH    torch's device (default cuda; cpu fills the column
#                         on a machine without CUDA)
#   DEVICE_CHECK_WINDOWS  timed windows per benchmark (default 3)
#   DEVICE_CHECK_SECONDS  seconds per window (default 0.5)
#   DEVICE_CHECK_TEST_TIMEOUT  seconds for the test suite (default 150; 900
#                         in local mode)
#   DEVICE_CHECK_TUNE=1   run `gancl tune --quick` before the benchmarks
#   DEVICE_CHECK_PROFILE=1  also run `gancl bench train --profile` (dcgan)
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
# else only its tail on failure.  A shell function runs in a subshell with
# errexit and puts timeout "$STEP_LIMIT" before its long commands; its exports
# do not reach us, so such a function leaves shell lines in $WORK/env.sh,
# which is sourced afterwards.
step() {
  local name=$1 limit=$2
  shift 2
  local remaining
  remaining=$(left)
  if ((remaining < 20)); then
    skip "$name" "out of time: DEVICE_CHECK_DEADLINE=$DEADLINE"
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
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
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
  timeout 120 cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DGANCL_WERROR=OFF "${CMAKE_HINTS[@]}"
  timeout --kill-after=10 "$STEP_LIMIT" cmake --build "$BUILD" -j"$JOBS"
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

declare -A GANCL=() TORCH=() LABEL=()
ROWS=()

row() { # key label
  [[ -n ${LABEL[$1]:-} ]] || ROWS+=("$1")
  LABEL[$1]=$2
}

img_rate() { grep -o -E '[0-9.]+ *img/s' "$1" | head -n 1 | grep -o -E '^[0-9.]+' || true; }

bench_train() { # model
  local model=$1
  row "train $model" "train $model, batch 64 (img/s)"
  SHOW=1 step "bench-$model" 90 "$BUILD/gancl" bench train --model "$model" --device "$DEV_INDEX" \
    --windows "$WINDOWS" --seconds "$SECONDS_PER_WINDOW" || return 0
  GANCL["train $model"]=$(img_rate "$LOGS/bench-$model.log")
}

bench_train_colour() { # size, then "remedies" or nothing
  local size=$1 extra=() key="train dcgan ${1}px"
  [[ ${2:-} == remedies ]] && extra=(--remedies) && key="$key remedies"
  row "$key" "train dcgan 3x${size}x${size}${2:+ + remedies}, batch 64 (img/s)"
  SHOW=1 step "bench-${size}px${2:+-$2}" 90 "$BUILD/gancl" bench train --model dcgan \
    --device "$DEV_INDEX" --size "$size" --channels 3 "${extra[@]}" --windows "$WINDOWS" \
    --seconds "$SECONDS_PER_WINDOW" || return 0
  GANCL[$key]=$(img_rate "$LOGS/bench-${size}px${2:+-$2}.log")
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
  # At most 8 files come back from the GPU machine, two of them the report.
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
  row inception "Inception-v3 (FID), batch 50 (img/s)"
  SHOW=1 step bench-fid 120 "$BUILD/gancl" bench fid --device "$DEV_INDEX" \
    --seconds "$(awk -v w="$WINDOWS" -v s="$SECONDS_PER_WINDOW" 'BEGIN { print w * s }')" ||
    return 0
  GANCL[inception]=$(img_rate "$LOGS/bench-fid.log")
}

bench_ops() {
  local line name
  SHOW=1 step bench-ops 120 "$BUILD/gancl" bench ops --device "$DEV_INDEX" \
    --windows "$WINDOWS" --window 0.1 || return 0
  # Rows are "<case>  <ms/run>  <GFLOP/s>"; the case name has spaces.
  while IFS=$'\t' read -r name line; do
    row "$name" "$name (GFLOP/s)"
    GANCL[$name]=$line
  done < <(awk '$NF ~ /^[0-9.]+$/ && $(NF-1) ~ /^[0-9.]+$/ && NF > 2 {
                  v = $NF; NF -= 2; print $0 "\t" v }' "$LOGS/bench-ops.log")
}

TORCH_VERSION=""
TORCH_NAME=""

pick_python() {
  local py
  for py in ${DEVICE_CHECK_PYTHON:-python3 /usr/bin/python3}; do
    if command -v "$py" >/dev/null && "$py" -c 'import torch' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

bench_torch() {
  local py json=$WORK/torch.json
  if ! py=$(pick_python); then
    skip torch "no python with torch"
    return 0
  fi
  rm -f "$json"
  if [[ $TORCH_DEVICE == cuda* ]] &&
    ! "$py" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
    # Expected in local mode; on the GPU machine it is a failure.
    if [[ $MODE == local ]]; then
      skip torch "torch.cuda is not available to $py"
    else
      record torch FAILED 0 "torch.cuda is not available to $py"
      say "torch: FAILED (torch.cuda is not available to $py)"
    fi
    return 0
  fi
  SHOW=1 PYTHONUNBUFFERED=1 step torch 240 "$py" "$ROOT/tools/bench_torch.py" \
    --device "$TORCH_DEVICE" --model seed,dcgan,inception,gemm --windows "$WINDOWS" \
    --window "$SECONDS_PER_WINDOW" --json "$json" || true
  [[ -f $json ]] || return 0
  local key value
  while IFS=$'\t' read -r key value; do
    case $key in
      "#torch") TORCH_VERSION=$value ;;
      "#device") TORCH_NAME=$value ;;
      seed | dcgan) TORCH["train $key"]=$value ;;
      inception) TORCH[$key]=$value ;;
      *) # gemm rows, present without gancl's figures too
        row "$key" "$key (GFLOP/s)"
        TORCH[$key]=$value
        ;;
    esac
  done < <("$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("#torch\t" + d["torch"])
print("#device\t" + d["device"])
for r in d["results"]:
    print("%s\t%.1f" % (r["figure"], r["value"]))' "$json")
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
  local k g t gpu torch_head
  gpu=${DEV_NAME:-no device}
  [[ -n $DEV_DRIVER ]] && gpu="$gpu, driver $DEV_DRIVER"
  case $TORCH_DEVICE in cuda*) torch_head=PyTorch-CUDA ;; *) torch_head=PyTorch-CPU ;; esac
  [[ -z $TORCH_VERSION ]] || torch_head="$torch_head ($TORCH_NAME, torch $TORCH_VERSION)"
  echo
  echo "## gancl device check ($MODE), $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $JOBS cores"
  echo
  echo "| figure | gancl (OpenCL, $gpu) | $torch_head | ratio |"
  echo "|---|---:|---:|---:|"
  for k in "${ROWS[@]}"; do
    g=${GANCL[$k]:-n/a}
    t=${TORCH[$k]:-n/a}
    echo "| ${LABEL[$k]} | $g | $t | $(ratio "$g" "$t") |"
  done
  echo
  echo "ratio: gancl / PyTorch (above 1: gancl is faster).  Benchmarks: $WINDOWS windows of" \
    "${SECONDS_PER_WINDOW} s, median."
  echo
  test_summary
  echo
  echo "| step | status | seconds | note |"
  echo "|---|---|---:|---|"
  for k in "${STEPS[@]}"; do
    echo "| $k | ${STATUS[$k]} | ${SECS[$k]} | ${NOTE[$k]} |"
  done
  echo
  echo "total: $(($(date +%s) - START)) s; logs: $LOGS"
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
# Two shared cores running PoCL need far longer than the GPU machine.
if [[ $MODE == run ]]; then
  DEADLINE=${DEADLINE:-280}
  TEST_LIMIT=${TEST_LIMIT:-150}
else
  DEADLINE=${DEADLINE:-1500}
  TEST_LIMIT=${TEST_LIMIT:-900}
fi
say "mode $MODE, repo $ROOT, work $WORK, deadline ${DEADLINE} s"

built=0
have_env=0
step env 30 step_env && have_env=1

if [[ -d $DEBS ]] && compgen -G "$DEBS/*.deb" >/dev/null; then
  step deps 120 step_deps && set_hints
else
  skip deps "no .debs/ (run 'fetch' here, carry .debs): using the system's packages"
fi
if ((have_env)) && [[ ${STATUS[deps]} != FAILED ]]; then
  step build 300 step_build && built=1
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
if ((device)) && [[ $ONLY_DEMO == 1 ]]; then
  demo
elif ((device)); then
  if [[ ${DEVICE_CHECK_TUNE:-0} == 1 ]]; then
    SHOW=1 step tune 180 "$BUILD/gancl" tune --device "$DEV_INDEX" --quick || true
  fi
  bench_train seed
  bench_train dcgan
  bench_train_colour 64
  bench_train_colour 64 remedies
  bench_fid
  bench_ops
  if [[ ${DEVICE_CHECK_PROFILE:-0} == 1 ]]; then
    SHOW=1 step profile 90 "$BUILD/gancl" bench train --model dcgan --device "$DEV_INDEX" \
      --windows 2 --seconds "$SECONDS_PER_WINDOW" --profile || true
  fi
else
  for k in "train seed" "train dcgan"; do row "$k" "$k, batch 64 (img/s)"; done
  row inception "Inception-v3 (FID), batch 50 (img/s)"
  skip gancl-bench "no OpenCL device"
fi
[[ $ONLY_DEMO == 1 ]] || demo
[[ $ONLY_DEMO == 1 ]] || bench_torch

# The suite last: the benchmarks are bounded, the suite's time is not, and
# what it has finished when the deadline comes is still reported.
if [[ $ONLY_DEMO == 1 ]]; then
  skip tests "DEVICE_CHECK_DEMO_ONLY=1"
elif ((built)); then
  if ((device)); then
    GANCL_REQUIRE_OPENCL=1 GANCL_TEST_DEVICE=$DEV_INDEX GANCL_DEVICE=$DEV_INDEX \
      step tests "$TEST_LIMIT" ctest --test-dir "$BUILD" -j"$JOBS" --timeout "$TEST_LIMIT" \
      --output-on-failure || true
  else # still worth knowing that the CPU side passes on this image
    step tests "$TEST_LIMIT" ctest --test-dir "$BUILD" -j"$JOBS" --timeout "$TEST_LIMIT" \
      --output-on-failure || true
  fi
else
  skip tests "nothing built"
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
