#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for SECONDS seconds each (default 60) and prints each
# one's executions and coverage (libFuzzer's final "cov:" and "ft:" counts) and whether it found
# a crash. The targets are built once, then run FUZZ_JOBS at a time (default: one per core),
# each as its own libFuzzer process with its own log (no -jobs/-workers: those make libFuzzer
# fork a worker that logs to fuzz-N.log, out of this script's sight).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each target's own corpus (what libFuzzer finds and keeps) lives under
# target/fuzz-corpus/<target>. The real .ora files of ../shared/corpus/real (or
# $ORASIM_CORPUS) seed the config parsers read in place: their folders are passed to libFuzzer
# as further corpus directories, which it reads and never writes. The golden packets of
# tns/testdata seed the packet, request and connection targets (the connection target's seeds
# are those packets behind a one-byte mode, so they are written out). Nothing of them is
# committed. Crashes land in fuzz/artifacts/<target>/ (libFuzzer's crash-* files);
# each one becomes a regression test of the body it crashed (see fuzz/README.md).
#
# Needs cargo-fuzz (installed from crates.io by this script when missing) and a nightly
# toolchain, or the pinned one with RUSTC_BOOTSTRAP=1. Builds without a sanitizer: the code
# under test is safe Rust, and panics and debug assertions are what the bodies check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
seconds=${1:-60}
shift || true

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

corpus_src=${ORASIM_CORPUS:-$root/../shared/corpus/real}
work=$root/target/fuzz-corpus
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd fuzz && "${fuzz[@]}" list)
fi

# seed TARGET FILE...: copies FILEs (that exist) into the target's corpus.
seed() {
    local t=$1
    shift
    mkdir -p "$work/$t"
    for f in "$@"; do
        [ -f "$f" ] && cp -f "$f" "$work/$t/seed_$(basename "$(dirname "$f")")_$(basename "$f")"
    done
    return 0
}

for t in "${targets[@]}"; do
    case $t in
        paramfile | listener | sqlnet | tnsnames | descriptor) mkdir -p "$work/$t" ;;
        ezconnect)
            mkdir -p "$work/$t"
            printf 'db1:1521/orcl' >"$work/$t/seed_plain"
            printf 'tcp://h1,h2:1522/svc:pooled/inst1?connect_timeout=5' >"$work/$t/seed_full"
            printf '[::1]:1521/svc' >"$work/$t/seed_ipv6"
            ;;
        tns_packet) seed "$t" tns/testdata/*.bin ;;
        tns_request) seed "$t" tns/testdata/pyo_*.bin ;;
        server_conn)
            mkdir -p "$work/$t"
            for f in tns/testdata/*.bin; do
                for mode in 0 1 2; do
                    { printf "\\x0$mode"; cat "$f"; } >"$work/$t/seed_${mode}_$(basename "$f")"
                done
            done
            ;;
        *) mkdir -p "$work/$t" ;;
    esac
done

# real_dirs TARGET: the folders of real .ora files the target reads in place, one per line.
real_dirs() {
    case $1 in
        paramfile) printf '%s\n' "$corpus_src"/listener "$corpus_src"/sqlnet "$corpus_src"/tnsnames ;;
        listener | sqlnet | tnsnames) printf '%s\n' "$corpus_src/$1" ;;
        descriptor) printf '%s\n' "$corpus_src"/tnsnames ;;
    esac
}

# Built once, with the flags `run` uses, so that parallel runs do not build again.
(cd fuzz && "${fuzz[@]}" build -s none -a)

# run_target TARGET: runs it for $seconds; its log and its exit status land beside its corpus.
run_target() {
    local t=$1 dirs=() existing=() d
    mapfile -t dirs < <(real_dirs "$t")
    for d in "${dirs[@]}"; do
        [ -d "$d" ] && existing+=("$d")
    done
    local status=0
    (cd fuzz && "${fuzz[@]}" run -s none -a "$t" "$work/$t" "${existing[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1) >"$work/$t.log" 2>&1 || status=$?
    echo "$status" >"$work/$t.status"
}

jobs=${FUZZ_JOBS:-$(nproc)}
for t in "${targets[@]}"; do
    rm -f "$work/$t.status"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n || true
    done
    run_target "$t" &
done
wait

printf '%-12s %12s %10s %8s %8s %s\n' target execs "exec/s" cov ft result
total=0
failed=0
for t in "${targets[@]}"; do
    log=$work/$t.log
    status=ok
    [ "$(cat "$work/$t.status" 2>/dev/null)" = 0 ] || status=CRASH
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    if [ "$status" != ok ]; then
        failed=$((failed + 1))
        status="CRASH (see $log, fuzz/artifacts/$t/)"
    fi
    total=$((total + ${execs:-0}))
    printf '%-12s %12s %10s %8s %8s %s\n' "$t" "${execs:-0}" "${rate:-0}" "${cov:-0}" "${ft:-0}" "$status"
done
echo "total executions: $total"
[ "$failed" -eq 0 ]
