#!/usr/bin/env bash
# Where `GET /v2/documents/{id}` on PostgreSQL goes, for one or more builds of docintel:
#
#   api/benches/pg_get_profile.sh SECONDS CONNECTIONS BIN...
#
# For each BIN, on a throwaway cluster of its own (loopback, pg_stat_statements loaded):
# one document uploaded and processed, then wrk on its GET for SECONDS at CONNECTIONS.
# Per GET: the statements PostgreSQL ran (pg_stat_statements), its transactions
# (pg_stat_database), its round trips (the backends' `sendto` calls, counted by strace
# over a second, 3-second run at 8 connections), and CPU µs of docintel, of PostgreSQL
# and of the whole machine (/proc, over the first run). Needs wrk, strace and the
# PostgreSQL server programs.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
# shellcheck source=tests/postgres-cluster.sh
. tests/postgres-cluster.sh
secs=$1
conns=$2
shift 2
work=$(mktemp -d)
pg_dir=
pid=
trap stop_server_and_cluster EXIT

psql_() { psql -q -t -A -d "$PG_URL" "$@"; }
# The cluster's server processes (its postmaster and every child).
pg_pids() {
    local pm
    pm=$(head -n 1 "$pg_dir/data/postmaster.pid")
    echo "$pm" $(ps --ppid "$pm" -o pid=)
}
counters() {
    psql_ -c "SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat%'), \
        (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database())" \
        | tr '|' ' '
}

echo "| build | req/s | p99 | statements/GET | transactions/GET | round trips/GET | CPU µs/GET: docintel, PostgreSQL, machine |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for bin in "$@"; do
    pg_dir=$(mktemp -d)
    pg_cluster_start "$pg_dir" -c shared_preload_libraries=pg_stat_statements
    psql_ -c "CREATE EXTENSION pg_stat_statements"
    port=$(free_port)
    base=http://127.0.0.1:$port
    RUST_LOG=warn "$bin" serve --data-dir "$work/data-$port" --listen "127.0.0.1:$port" \
        --database-url "$PG_URL" --rate-limit off --ip-rate-limit off \
        --max-in-flight-per-address off 2> "$work/serve.log" &
    pid=$!
    wait_up "$base/healthz"
    key=$(grep -o 'dik_[0-9a-f]*' "$work/serve.log" | sed -n 1p)
    doc=$(curl -fs -H "Authorization: Bearer $key" -H 'Content-Type: application/octet-stream' \
        --data-binary 'a note' "$base/v2/documents?filename=a.txt" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    for _ in $(seq 100); do
        curl -fs -H "Authorization: Bearer $key" "$base/v2/documents/$doc" | grep -q '"processed"' && break
        sleep 0.1
    done
    url=$base/v2/documents/$doc
    # Warm: every pooled connection has prepared its statements.
    wrk -t2 -c"$conns" -d2s -H "Authorization: Bearer $key" "$url" > /dev/null
    sleep 1.5
    psql_ -c "SELECT pg_stat_statements_reset()" > /dev/null
    read -r stmts0 xacts0 <<< "$(counters)"
    cpu0=$(cpu_of "$pid")
    pg0=$(cpu_of $(pg_pids))
    busy0=$(machine_busy)
    wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" "$url" > "$work/wrk.txt"
    busy1=$(machine_busy)
    pg1=$(cpu_of $(pg_pids))
    cpu1=$(cpu_of "$pid")
    read -r stmts1 xacts1 <<< "$(counters)"
    requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p99=$(awk '/^ +99%/ {print $2}' "$work/wrk.txt")
    # The counters' own queries are one statement and one transaction each.
    stmts=$(python3 -c "print(f'{($stmts1 - $stmts0) / $requests:.2f}')")
    xacts=$(python3 -c "print(f'{($xacts1 - $xacts0 - 2) / $requests:.2f}')")
    backends=$(psql_ -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' \
        AND pid <> pg_backend_pid()" | tr '\n' ' ')
    strace_args=()
    for b in $backends; do strace_args+=(-p "$b"); done
    strace -c -e trace=sendto -o "$work/strace.txt" "${strace_args[@]}" 2> /dev/null &
    tracer=$!
    sleep 1
    wrk -t2 -c8 -d3s -H "Authorization: Bearer $key" "$url" > "$work/wrk-traced.txt"
    sleep 1.5
    kill -INT "$tracer"
    wait "$tracer" 2> /dev/null || true
    traced=$(awk '/requests in/ {print $1}' "$work/wrk-traced.txt")
    sends=$(awk '$NF == "sendto" {print $4}' "$work/strace.txt")
    trips=$(python3 -c "print(f'{${sends:-0} / $traced:.2f}')")
    echo "| $bin | $rps | $p99 | $stmts | $xacts | $trips | $(per $((cpu1 - cpu0)) "$requests"), $(per $((pg1 - pg0)) "$requests"), $(per $((busy1 - busy0)) "$requests") |"
    kill "$pid"
    wait "$pid" 2> /dev/null || true
    pid=
    pg_cluster_stop "$pg_dir"
    rm -rf "$pg_dir"
    pg_dir=
done
