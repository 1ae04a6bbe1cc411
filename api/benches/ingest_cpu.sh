#!/usr/bin/env bash
# CPU per document, upload to `processed`, of two builds side by side (same machine, same
# run, release builds, embedded SQLite store):
#
#   cargo build --release -p docintel-api --bin docintel -p docintel-e2e --example ingest_bench
#   BASE=/path/to/older/docintel api/benches/ingest_cpu.sh [documents] [in flight] [rounds]
#   STORE=postgres BASE=… api/benches/ingest_cpu.sh …   # the same on PostgreSQL
#   INGEST_BENCH_DOCUMENT=scan BASE=… api/benches/ingest_cpu.sh …   # the page scanned (OCR)
#   STORE=both api/benches/ingest_cpu.sh …   # one build, SQLite against PostgreSQL
#
# Each round starts each build on a fresh data folder and sends it `documents` one-page
# text PDFs, `in flight` at a time (examples/ingest_bench.rs, concurrent part only), then
# waits until none is queued or processing. Reported per build (per store with
# STORE=both), medians over the rounds:
# documents per second, and CPU per document of the server and every process it started
# (its parsers included: user + system time of the whole process tree, reaped children
# counted), and of the whole machine (the load generator included). With STORE=postgres,
# each run gets a fresh database on one throwaway cluster on loopback (default settings;
# tests/postgres-cluster.sh); the server's CPU is then docintel's alone, the machine's
# includes PostgreSQL's.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
docs=${1:-2000}
in_flight=${2:-64}
rounds=${3:-3}
bin="${CARGO_TARGET_DIR:-target}/release"
new="$bin/docintel"
store=${STORE:-sqlite}
if [ "$store" = both ]; then
    base=$new
    names=(sqlite postgres)
else
    base=${BASE:?"BASE=<the docintel binary to compare with>"}
    names=(base new)
fi
work=$(mktemp -d)
pids=()
pg_dir=
trap 'kill "${pids[@]}" 2>/dev/null || true; [ -z "$pg_dir" ] || { pg_cluster_stop "$pg_dir"; rm -rf "$pg_dir"; }; rm -rf "$work"' EXIT
if [ "$store" != sqlite ]; then
    # shellcheck source=tests/postgres-cluster.sh
    . tests/postgres-cluster.sh
    pg_dir=$(mktemp -d)
    pg_cluster_start "$pg_dir"
fi

# The pids of PID and all its descendants.
tree() {
    local pid=$1 child
    echo "$pid"
    for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
        tree "$child"
    done
}
# CPU ticks of a process tree (its exited members are in their parents' counts).
cpu_tree() { cpu_of $(tree "$1"); }

# run NAME BINARY STORE: one round; prints "docs/s server-µs/doc machine-µs/doc".
run() {
    local name=$1 binary=$2 port
    port=$(free_port)
    rm -rf "$work/$name"
    local database=()
    if [ "$3" = postgres ]; then
        # A name of its own: each run is in a subshell of its own.
        local db="run_${name}_$(date +%s%N)"
        psql -q -d "$PG_URL" -c "CREATE DATABASE $db" > /dev/null
        database=(--database-url "${PG_URL%/postgres}/$db")
    fi
    RUST_LOG=warn "$binary" serve --listen "127.0.0.1:$port" --data-dir "$work/$name" "${database[@]}" \
        --rate-limit off --ip-rate-limit off --max-in-flight-per-address off 2> "$work/$name.log" &
    local server=$!
    pids+=("$server")
    wait_up "http://127.0.0.1:$port/readyz"
    local key
    key=$(grep -o 'dik_[0-9a-f]*' "$work/$name.log" | sed -n 1p)
    # Warm: the first documents start what starts lazily.
    INGEST_BENCH_CONCURRENT_ONLY=1 "$bin/examples/ingest_bench" "http://127.0.0.1:$port" "$key" 64 "$in_flight" > /dev/null
    local cpu0 busy0 out cpu1 busy1
    cpu0=$(cpu_tree "$server")
    busy0=$(machine_busy)
    out=$(INGEST_BENCH_CONCURRENT_ONLY=1 "$bin/examples/ingest_bench" "http://127.0.0.1:$port" "$key" "$docs" "$in_flight")
    cpu1=$(cpu_tree "$server")
    busy1=$(machine_busy)
    kill "$server"
    wait "$server" 2>/dev/null || true
    rm -rf "$work/$name"
    python3 - "$(echo "$out" | awk '/docs processed/ {print $(NF-1)}')" $((cpu1 - cpu0)) $((busy1 - busy0)) "$docs" "$ticks" <<'PY'
import sys
rate, cpu, busy, n, ticks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(rate, round(cpu / ticks / n * 1e6), round(busy / ticks / n * 1e6))
PY
}

# The builds take turns, first one then the other going first: a file system fills up
# as a round goes, and a later run's file creations cost more than an earlier one's.
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then order="${names[0]} ${names[1]}"; else order="${names[1]} ${names[0]}"; fi
    for name in $order; do
        if [ "$name" = base ]; then binary=$base; else binary=$new; fi
        run_store=$store
        if [ "$store" = both ]; then run_store=$name; fi
        echo "$name $(run "$name" "$binary" "$run_store")" >> "$work/results"
    done
    echo "round $r: $(tail -2 "$work/results" | tr '\n' ' ')" >&2
done
python3 - "$work/results" "$docs" "$in_flight" "$store" "${INGEST_BENCH_DOCUMENT:-pdf}" "${names[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
base, new = sys.argv[6], sys.argv[7]
def med(name, i):
    return statistics.median(float(r[i]) for r in rows if r[0] == name)
kind = "scanned pages (150-dpi PNG, OCR)" if sys.argv[5] == "scan" else "one-page text PDFs"
stores = "SQLite and PostgreSQL" if sys.argv[4] == "both" else sys.argv[4]
print(f"{sys.argv[2]} {kind}, {sys.argv[3]} in flight, {stores}, medians of {len(rows) // 2} rounds")
print("| run | documents/s | CPU µs per document (server + its processes) | machine CPU µs per document |")
print("| --- | --- | --- | --- |")
for name in (base, new):
    print(f"| {name} | {med(name, 1):.0f} | {med(name, 2):.0f} | {med(name, 3):.0f} |")
print(f"ratio {new}/{base}: documents/s {med(new, 1) / med(base, 1):.2f}, CPU per document {med(new, 2) / med(base, 2):.2f}")
# Each round's own ratio too: rounds drift together (the machine's other load), so a
# ratio within a round is steadier than one of medians.
per_round = [float(b[1]) / float(a[1]) for a, b in zip(rows[0::2], rows[1::2])]
per_round = [r if rows[2 * i][0] == base else 1 / r for i, r in enumerate(per_round)]
print("documents/s, each round's " + f"{new}/{base}: " + ", ".join(f"{r:.2f}" for r in per_round))
PY
