#!/usr/bin/env bash
# What a durable acknowledgement costs on the embedded store, same machine, same run:
#
#   cargo build --release -p docintel-api --bin docintel -p docintel-e2e --example ingest_bench
#   api/benches/durability.sh [documents]
#
# Upload→processed (examples/ingest_bench.rs) with 16 and with 64 uploads in flight,
# against `--sqlite-durability normal` (WAL fsynced at checkpoints only) and `full` (the
# default: the WAL fsynced at every commit, before the 202), twice each, alternating.
# Prints one table.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
n=${1:-300}
bin="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

rows=()
for round in 1 2; do
    for durability in normal full; do
        dir="$work/$durability-$round"
        port=$(free_port)
        RUST_LOG=warn "$bin/docintel" serve --data-dir "$dir" --listen "127.0.0.1:$port" \
            --rate-limit off --ip-rate-limit off --max-in-flight-per-address off --sqlite-durability "$durability" 2> "$dir.log" &
        pid=$!
        wait_up "http://127.0.0.1:$port/healthz"
        key=$(grep -o 'dik_[0-9a-f]*' "$dir.log" | sed -n 1p)
        for in_flight in 16 64; do
            out=$("$bin/examples/ingest_bench" "http://127.0.0.1:$port" "$key" "$n" "$in_flight")
            p50=$(echo "$out" | sed -n 's/.*p50 \([0-9.]*\) ms.*/\1/p')
            rate=$(echo "$out" | awk '/concurrent/ {print $(NF-1)}')
            rows+=("$durability $in_flight $round $rate $p50")
        done
        kill $pid
        wait $pid 2>/dev/null || true
    done
done

echo
echo "| durability | in flight | round | docs/s | sequential upload→processed p50 (ms) |"
echo "| --- | --- | --- | --- | --- |"
for r in "${rows[@]}"; do
    read -r d f round rate p50 <<< "$r"
    echo "| $d | $f | $round | $rate | $p50 |"
done
