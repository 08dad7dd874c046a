#!/usr/bin/env bash
# tools/demo-oxygen.sh - README's colour demo: a DCGAN on the Oxygen icon
# theme (Debian package oxygen-icon-theme, ~840 colour 128x128 PNGs), once
# plain and once with --remedies, from the same seed for the same number of
# steps, then a summary: time, steps, images/s, the last diversity ratios,
# and where the final sample grids are.
#
#   tools/demo-oxygen.sh [--gancl PATH] [--device N|cpu] [--size 64]
#                        [--epochs E | --seconds T] [--out DIR] [--data DIR]
#                        [--seed N] [-- extra train flags for both runs]
#
# --epochs E trains both runs for E epochs.  --seconds T (the default, 120)
# lets the plain run go for T seconds (stopped with SIGINT, which gancl
# answers with a checkpoint) and gives the remedies run the same number of
# steps, or 2 T seconds if that comes first.  Exit status: 0 when both runs
# finished, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GANCL=${GANCL:-$ROOT/build/gancl}
DEVICE=0
SIZE=64
EPOCHS=""
SECONDS_PLAIN=120
OUT=runs/oxygen
DATA=/usr/share/icons/oxygen/base/128x128
SEED=1
EXTRA=()

while (($#)); do
  case $1 in
    --gancl) GANCL=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --seconds) SECONDS_PLAIN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo-oxygen: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[[ -x $GANCL ]] || { echo "demo-oxygen: $GANCL is not an executable (--gancl PATH)" >&2; exit 2; }
[[ -d $DATA ]] || {
  echo "demo-oxygen: $DATA is missing: apt-get install oxygen-icon-theme (or --data DIR)" >&2
  exit 2
}
rm -rf "$OUT/plain" "$OUT/remedies"
mkdir -p "$OUT"

# One run: NAME, then train flags.  Prints wall seconds into $OUT/NAME.time.
run() {
  local name=$1 start end rc=0
  shift
  start=$(date +%s.%N)
  "$@" >"$OUT/$name.log" 2>&1 || rc=$?
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f\n", b - a }' >"$OUT/$name.time"
  return "$rc"
}

last_step() { # the step of the run's last losses.csv row
  awk -F, 'NR > 1 { s = $1 } END { print s + 0 }' "$OUT/$1/losses.csv"
}

# An epoch of 837 icons is 13 steps: grids, checkpoints and the collapse
# diagnostic every 10 epochs rather than every few seconds.
common=("$GANCL" --device "$DEVICE" train --data "$DATA" --size "$SIZE" --channels 3
  --seed "$SEED" --save-every 10 "${EXTRA[@]}")
status=0
if [[ -n $EPOCHS ]]; then
  run plain "${common[@]}" --epochs "$EPOCHS" --out "$OUT/plain" || status=1
  run remedies "${common[@]}" --remedies --epochs "$EPOCHS" --out "$OUT/remedies" || status=1
else
  # timeout exits 124 when it stopped the run (gancl itself 130 on SIGINT).
  rc=0
  run plain timeout -s INT "$SECONDS_PLAIN" "${common[@]}" --epochs 1000000 --out "$OUT/plain" ||
    rc=$?
  [[ $rc == 0 || $rc == 124 || $rc == 130 ]] || status=1
  steps=$(last_step plain)
  if ((steps > 0)); then
    rc=0
    run remedies timeout -s INT $((2 * SECONDS_PLAIN)) "${common[@]}" --remedies --steps "$steps" \
      --out "$OUT/remedies" || rc=$?
    [[ $rc == 0 ]] || status=1
  else
    echo "demo-oxygen: the plain run made no step; see $OUT/plain.log" >&2
    status=1
  fi
fi

echo "## Oxygen icons, ${SIZE}x${SIZE} RGB, device $DEVICE, seed $SEED"
echo
echo "| run | seconds | steps | img/s (last log) | diversity (D features) | diversity (pixels) |"
echo "|---|---:|---:|---:|---:|---:|"
for name in plain remedies; do
  [[ -f $OUT/$name/losses.csv ]] || { echo "| $name | failed: see $OUT/$name.log | | | | |"; continue; }
  rate=$(awk -F, 'NR > 1 { r = $NF } END { printf "%.0f", r }' "$OUT/$name/losses.csv")
  div="n/a"
  pix="n/a"
  if [[ -f $OUT/$name/diversity.csv ]]; then
    div=$(awk -F, 'NR > 1 { r = $5 } END { printf "%.3f", r }' "$OUT/$name/diversity.csv")
    pix=$(awk -F, 'NR > 1 { r = $6 } END { printf "%.3f", r }' "$OUT/$name/diversity.csv")
  fi
  echo "| $name | $(cat "$OUT/$name.time") | $(last_step "$name") | $rate | $div | $pix |"
  grid=$(ls -t "$OUT/$name"/samples/*.png 2>/dev/null | head -n 1 || true)
  [[ -n $grid ]] && cp "$grid" "$OUT/$name-final.png"
done
echo
echo "grids: $OUT/plain-final.png $OUT/remedies-final.png; logs: $OUT/*.log"
exit "$status"
