#!/usr/bin/env bash
# tools/setup-torch.sh - installs PyTorch from PyPI (torch torchvision, the
# build users `pip install`, with MKL and oneDNN) into a venv outside the
# tree, as the peer of gancl's speed comparisons (tools/bench_torch.py).
# The download is large: about 6 GB installed with its CUDA libraries.
# Idempotent: a second run installs nothing.  gancl itself, its tests and
# its goldens need none of it.
#
#   tools/setup-torch.sh [DIR]          DIR defaults to $GANCL_TORCH_DIR,
#                                       else ~/.cache/gancl/torch
#   DIR/venv/bin/python tools/bench_torch.py --gancl build/gancl
#
# It prints the venv's python on stdout and everything else on stderr.
set -euo pipefail

dir=${1:-${GANCL_TORCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gancl/torch}}
venv=$dir/venv
packages=(torch torchvision)
die() { echo "setup-torch: $*" >&2; exit 1; }

# shellcheck source=tools/pypi-venv.sh
. "$(dirname "$0")/pypi-venv.sh"
PYPI_VENV_SIZE="about 6 GB" pypi_venv setup-torch "$venv" "${packages[@]}"
"$venv/bin/python" -c 'import torch, torchvision' >&2 || die "torch does not import in $venv"
echo "setup-torch: $("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)') in $venv" >&2
echo "$venv/bin/python"
