#!/usr/bin/env bash
# The two stores side by side, same machine, same run, release build:
#
#   cargo build --release -p docintel-api --bin docintel -p docintel-e2e --example ingest_bench
#   api/benches/stores.sh [seconds] [connections]
#
# For SQLite and for PostgreSQL (a throwaway cluster on loopback, default settings):
# upload→processed with 16 in flight (examples/ingest_bench.rs), then GET
# /v2/documents/{id} and the first page of GET /v2/documents (limit 20) with wrk at 10k
# and at 1M documents in one tenant, seeded by a bulk insert. Needs wrk and the
# PostgreSQL server programs (Debian `wrk`, `postgresql`). Prints one table.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
secs=${1:-8}
conns=${2:-64}
bin="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
pg_dir=$(mktemp -d)
pids=()
# shellcheck source=tests/postgres-cluster.sh
. tests/postgres-cluster.sh
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    pg_cluster_stop "$pg_dir"
    rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT

pg_cluster_start "$pg_dir"
pg_url=$PG_URL
psql_() { psql -q -t -A -d "$pg_url" "$@"; }


# seed STORE TENANT FROM TO: documents FROM..TO-1 for TENANT, straight into the store.
seed() {
    local store=$1 tenant=$2 from=$3 to=$4
    if [ "$store" = sqlite ]; then
        python3 - "$work/sqlite/docintel.db" "$tenant" "$from" "$to" <<'PY'
import sqlite3, sys, time
db, tenant, start, end = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(db, timeout=60)
ms = int(time.time() * 1000)
rows = ((f"{i:08x}-0000-7000-8000-{i:012x}", tenant, "seed.txt", "processed", "text/plain",
         10, "0" * 64, "seed", ms, ms) for i in range(start, end))
con.executemany("INSERT INTO documents (id, tenant_id, filename, status, content_type, "
                "size_bytes, sha256, blob_key, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
con.commit()
con.execute("ANALYZE")
PY
    else
        psql_ -c "INSERT INTO documents (id, tenant_id, filename, status, content_type, \
            size_bytes, sha256, blob_key, created_at, updated_at) \
            SELECT lpad(to_hex(i), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), \
            '$tenant', 'seed.txt', 'processed', 'text/plain', 10, repeat('0', 64), 'seed', \
            (extract(epoch from now()) * 1000)::bigint, (extract(epoch from now()) * 1000)::bigint \
            FROM generate_series($from, $to - 1) AS i" -c "ANALYZE documents"
    fi
}

# measure NAME URL: "req/s p50 p99" of wrk against URL.
measure() {
    wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" "$2" > "$work/$1.txt"
    awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {print rps, p50, p99}' \
        "$work/$1.txt"
}

results=()
for store in sqlite postgres; do
    # A free port: another run of this script may be going on on the same machine.
    port=$(free_port)
    args=(--data-dir "$work/$store" --listen "127.0.0.1:$port" --rate-limit off --ip-rate-limit off --max-in-flight-per-address off)
    [ "$store" = postgres ] && args+=(--database-url "$pg_url")
    RUST_LOG=warn "$bin/docintel" serve "${args[@]}" 2> "$work/$store.log" &
    pids+=($!)
    wait_up "http://127.0.0.1:$port/healthz"
    key=$(grep -o 'dik_[0-9a-f]*' "$work/$store.log" | sed -n 1p)
    base=http://127.0.0.1:$port
    ingest=$("$bin/examples/ingest_bench" "$base" "$key" 200 | awk '/concurrent ingest/ {print $(NF-1)}')
    if [ "$store" = sqlite ]; then
        tenant=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select id from tenants where name='default'\").fetchone()[0])" "$work/sqlite/docintel.db")
    else
        tenant=$(psql_ -c "select id from tenants where name = 'default'")
    fi
    doc=$(curl -fs -H "Authorization: Bearer $key" "$base/v2/documents?limit=1" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
    total=200
    for n in 10000 1000000; do
        seed "$store" "$tenant" "$total" "$n"
        total=$n
        get=$(measure "$store-get-$n" "$base/v2/documents/$doc")
        list=$(measure "$store-list-$n" "$base/v2/documents?limit=20")
        results+=("$store $n $ingest $get $list")
    done
    kill "${pids[-1]}"
    wait "${pids[-1]}" 2>/dev/null || true
done

echo
echo "| store | documents | ingest docs/s (16 in flight) | GET one: req/s, p50, p99 | list page: req/s, p50, p99 |"
echo "| --- | --- | --- | --- | --- |"
for r in "${results[@]}"; do
    read -r store n ingest grps gp50 gp99 lrps lp50 lp99 <<< "$r"
    echo "| $store | $n | $ingest | $grps, $gp50, $gp99 | $lrps, $lp50, $lp99 |"
done
