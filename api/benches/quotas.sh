#!/usr/bin/env bash
# Upload throughput with storage quotas enforced against a build without them, same
# machine, same run, release builds:
#
#   cargo build --release -p docintel-api --bin docintel -p docintel-e2e --example ingest_bench
#   BASE=/path/to/docintel-without-quotas api/benches/quotas.sh [uploads] [in-flight] [rounds]
#
# BASE is a release `docintel` built from the commit before quotas. For each store, the
# two binaries take turns (`rounds` each, on a fresh database each time): `uploads`
# one-page PDFs, `in-flight` at a time, to one tenant (the worst case for quotas: every
# upload counts itself on one usage row), measured by examples/ingest_bench.rs with
# INGEST_BENCH_UPLOADS_ONLY (the rate at which uploads are accepted). The quota build runs
# with finite quotas (`--quota-documents 1000000000 --quota-bytes 1TB`) so every upload is
# checked. SQLite: one process, one worker; PostgreSQL (a throwaway cluster on loopback):
# `--role api`, no worker, so only the upload path runs. Prints each run and the medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
uploads=${1:-2000}
in_flight=${2:-16}
rounds=${3:-3}
bin="${CARGO_TARGET_DIR:-target}/release"
base_bin=${BASE:?BASE=the docintel binary to compare with}
work=$(mktemp -d)
pg_dir=$(mktemp -d)
pid=
# shellcheck source=tests/postgres-cluster.sh
. tests/postgres-cluster.sh
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    pg_cluster_stop "$pg_dir"
    rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT
pg_cluster_start "$pg_dir"

# run STORE WHICH N: one run's uploads per second.
run() {
    local store=$1 which=$2 n=$3 program args port
    port=$(free_port)
    args=(--data-dir "$work/$store-$which-$n" --listen "127.0.0.1:$port" --rate-limit off
        --ip-rate-limit off --max-in-flight-per-address off)
    if [ "$which" = base ]; then
        program=$base_bin
    else
        program=$bin/docintel
        args+=(--quota-documents 1000000000 --quota-bytes 1TB)
    fi
    if [ "$store" = postgres ]; then
        psql -q -d "$PG_URL" -c "CREATE DATABASE r_${which}_$n" >/dev/null
        args+=(--database-url "${PG_URL%/*}/r_${which}_$n" --role api)
        # A key made by a process of the same build (an API process does not print one).
        RUST_LOG=warn "$program" keys create --tenant default \
            --data-dir "$work/$store-$which-$n" --database-url "${PG_URL%/*}/r_${which}_$n" \
            > "$work/key" 2>/dev/null
    else
        args+=(--workers 1)
    fi
    RUST_LOG=warn "$program" serve "${args[@]}" 2> "$work/log" &
    pid=$!
    wait_up "http://127.0.0.1:$port/healthz"
    local key
    if [ "$store" = postgres ]; then
        key=$(cat "$work/key")
    else
        key=$(grep -o 'dik_[0-9a-f]*' "$work/log" | sed -n 1p)
    fi
    INGEST_BENCH_UPLOADS_ONLY=1 "$bin/examples/ingest_bench" "http://127.0.0.1:$port" "$key" \
        "$uploads" "$in_flight" | awk '/concurrent uploads/ {print $(NF-1)}'
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for store in sqlite postgres; do
    : > "$work/base.txt"
    : > "$work/quotas.txt"
    for n in $(seq "$rounds"); do
        b=$(run "$store" base "$n")
        q=$(run "$store" quotas "$n")
        echo "$store round $n: without quotas $b uploads/s, with quotas $q uploads/s"
        echo "$b" >> "$work/base.txt"
        echo "$q" >> "$work/quotas.txt"
    done
    b=$(median < "$work/base.txt")
    q=$(median < "$work/quotas.txt")
    echo "$store median: without $b, with $q uploads/s: ratio $(python3 -c "print(f'{$q / $b:.3f}')")"
done
