#!/usr/bin/env bash
# tools/setup-intel-opencl.sh - installs Intel's OpenCL CPU runtime (PyPI's
# intel-opencl-rt and intel-cmplr-lib-rt, no root needed) into a venv, and
# writes an ICD folder naming it and PoCL, so that gancl and its tests can
# run on a second OpenCL implementation.  Idempotent: a second run installs
# nothing.
#
#   tools/setup-intel-opencl.sh [DIR]    DIR defaults to $GANCL_INTEL_OPENCL_DIR,
#                                        else ~/.cache/gancl/intel-opencl
#   . DIR/env.sh                         sets OCL_ICD_VENDORS and LD_LIBRARY_PATH
#   build/gancl list-devices --json      the device whose platform is "Intel(R) OpenCL"
#
# It prints the two settings on stdout (eval "$(tools/setup-intel-opencl.sh)"
# also works) and everything else on stderr.
set -euo pipefail

dir=${1:-${GANCL_INTEL_OPENCL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gancl/intel-opencl}}
venv=$dir/venv
packages=(intel-opencl-rt intel-cmplr-lib-rt)
die() { echo "setup-intel-opencl: $*" >&2; exit 1; }

# shellcheck source=tools/pypi-venv.sh
. "$(dirname "$0")/pypi-venv.sh"
pypi_venv setup-intel-opencl "$venv" "${packages[@]}"
lib=$venv/lib
[ -f "$lib/libintelocl.so" ] || die "$lib/libintelocl.so is missing after installing ${packages[*]}"

# The packages' own etc/OpenCL/vendors/intel-cpu.icd names a build machine's
# path, so write one with ours, beside PoCL's.
mkdir -p "$dir/vendors"
echo "$lib/libintelocl.so" >"$dir/vendors/intel-cpu.icd"
if [ -f /etc/OpenCL/vendors/pocl.icd ]; then
  cp /etc/OpenCL/vendors/pocl.icd "$dir/vendors/pocl.icd"
fi
# shellcheck disable=SC2016 # $LD_LIBRARY_PATH is expanded when env.sh is sourced
printf 'export OCL_ICD_VENDORS=%q\nexport LD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' \
  "$dir/vendors" "$lib" >"$dir/env.sh"
echo "setup-intel-opencl: Intel's OpenCL runtime is in $venv; . $dir/env.sh to use it" >&2
cat "$dir/env.sh"
