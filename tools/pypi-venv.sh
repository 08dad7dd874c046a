# shellcheck shell=bash
# tools/pypi-venv.sh - sourced by the tools/setup-*.sh scripts: one owner
# for "a venv outside the tree with these PyPI packages in it".
#
#   pypi_venv NAME VENV PACKAGE...
#
# (with PYPI_VENV_SIZE set, e.g. "about 6 GB", the install message says so)
# Creates VENV when missing (installing Debian's python3-venv first, with
# sudo when not root, if python3 cannot make one), then pip-installs the
# packages it lacks.  Idempotent: a second call installs nothing.  Messages
# go to stderr, prefixed "NAME: "; any failure exits 1 with one line.

pypi_venv_die() { echo "$1: $2" >&2; exit 1; }

pypi_venv() {
  local name=$1 venv=$2
  shift 2
  command -v python3 >/dev/null || pypi_venv_die "$name" "python3 is missing (apt-get install python3-venv)"
  if [ ! -x "$venv/bin/python" ] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    # Debian splits venv's pip bootstrap into python3-venv.
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null || pypi_venv_die "$name" "python3 -m venv is unavailable and installing python3-venv needs root (or sudo)"
      sudo="sudo"
    fi
    echo "$name: installing python3-venv" >&2
    { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive \
        $sudo apt-get install -y -q --no-install-recommends python3-venv; } >&2 ||
      pypi_venv_die "$name" "cannot install python3-venv with apt-get"
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2 || pypi_venv_die "$name" "python3 -m venv $venv failed"
  "$venv/bin/python" -m pip --version >/dev/null 2>&1 ||
    pypi_venv_die "$name" "pip is unavailable in $venv (remove it and install python3-venv)"
  local missing=() p
  for p in "$@"; do
    "$venv/bin/python" -m pip show -q "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "$name: installing ${missing[*]} into $venv${PYPI_VENV_SIZE:+ ($PYPI_VENV_SIZE)}" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}" >&2 ||
      pypi_venv_die "$name" "pip install ${missing[*]} failed"
  fi
}
