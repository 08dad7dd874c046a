#!/bin/sh
# tools/fuzz.sh [--time SECONDS] [TARGET...] - builds the libFuzzer targets
# of tests/fuzz with clang (ASan + UBSan) in build-fuzz-clang/ and runs each
# for SECONDS (default 60) from its seed corpus in tests/fuzz/corpus/<name>.
# New inputs go to a scratch folder, not the committed corpus.  Every target
# runs; the exit code is 1 if any had a finding (crash, leak, sanitizer
# report, timeout, OOM), whose reproducer is left in build-fuzz-clang/findings/
# (replay it: build-fuzz-clang/tests/fuzz/fuzz_<name> FILE).
#
# Targets: every tests/fuzz/fuzz_<name>.c (default: all of them).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${GANCL_FUZZ_BUILD:-$root/build-fuzz-clang}
time=60
all=$(cd "$root/tests/fuzz" && for f in fuzz_*.c; do n=${f#fuzz_}; printf '%s ' "${n%.c}"; done)

while [ $# -gt 0 ]; do
    case $1 in
    --time)
        [ $# -ge 2 ] || { echo "fuzz.sh: --time needs a value" >&2; exit 2; }
        time=$2
        shift 2
        ;;
    --time=*) time=${1#--time=}; shift ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
    esac
done
case $time in '' | *[!0-9]*) echo "fuzz.sh: --time: '$time' is not a number of seconds" >&2; exit 2 ;; esac
targets=${*:-$all}
for t in $targets; do
    case " $all " in *" $t "*) ;; *) echo "fuzz.sh: unknown target '$t' (one of: $all)" >&2; exit 2 ;; esac
done

command -v clang >/dev/null || { echo "fuzz.sh: clang is required (apt-get install clang)" >&2; exit 2; }
jobs=${GANCL_FUZZ_JOBS:-2}
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DGANCL_FUZZ=ON \
    -DGANCL_TESTS=OFF -DGANCL_SANITIZE=OFF -DGANCL_WERROR=OFF >/dev/null
exes=""
for t in $targets; do exes="$exes fuzz_$t"; done
# shellcheck disable=SC2086 # one word per target
cmake --build "$build" -j"$jobs" --target $exes

mkdir -p "$build/findings"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
failed=""
for t in $targets; do
    scratch="$build/corpus/$t"
    seeds="$root/tests/fuzz/corpus/$t"
    mkdir -p "$scratch"
    [ -d "$seeds" ] || seeds=""
    echo "fuzz.sh: $t for ${time}s"
    # -rss_limit_mb / -timeout make a memory blow-up or a hang a finding.
    if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="$time" -print_final_stats=1 \
        -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$build/findings/$t-" \
        "$scratch" ${seeds:+"$seeds"} 2>"$build/fuzz-$t.log"; then
        tail -n 60 "$build/fuzz-$t.log" >&2
        echo "fuzz.sh: $t: FINDING (log $build/fuzz-$t.log, inputs $build/findings/$t-*)" >&2
        failed="$failed $t"
        continue
    fi
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::)' "$build/fuzz-$t.log" || true
done
if [ -n "$failed" ]; then
    echo "fuzz.sh: findings in:$failed" >&2
    exit 1
fi
echo "fuzz.sh: no findings"
