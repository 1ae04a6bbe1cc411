#!/usr/bin/env bash
# Three topologies side by side, same machine, same run, release build:
#
#   cargo build --release -p docintel-api --bin docintel -p docintel-e2e --example ingest_bench
#   api/benches/scale_out.sh [seconds] [connections]
#
#   single      one `serve` on the embedded SQLite store and the local blob folder
#   all-pg      one `serve --role all` on PostgreSQL, blobs in the local folder
#   all-pg-s3   one `serve --role all` on PostgreSQL, blobs in an S3 server (moto)
#   2api-2wrk   two `--role api` and two `--role worker` processes on the same
#
# For each: upload→processed with 16 in flight over every API process
# (examples/ingest_bench.rs, 200 one-page PDFs), then GET /v2/documents/{id} with wrk
# (one wrk per API process, the connections split between them). CPU is read from /proc:
# the docintel processes' user+system time (their parser children included) per
# document and per GET, and the whole machine's busy time over the same span (PostgreSQL,
# moto and wrk included). Needs wrk, moto_server (PyPI `moto[s3]`, flask, flask-cors)
# and the PostgreSQL server programs. Prints one table.
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

pg_cluster_start "$pg_dir" -c max_connections=300
s3_port=$(free_port)
moto_server -H 127.0.0.1 -p "$s3_port" > "$work/moto.log" 2>&1 &
pids+=($!)
export AWS_ENDPOINT=http://127.0.0.1:$s3_port AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
    AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench

wait_up "$AWS_ENDPOINT"

# serve NAME PORT ARGS...: starts a process; appends its pid to `procs`.
serve() {
    local name=$1 port=$2
    shift 2
    RUST_LOG=warn "$bin/docintel" serve --listen "127.0.0.1:$port" --data-dir "$work/$name" \
        --rate-limit off --ip-rate-limit off --max-in-flight-per-address off "$@" 2> "$work/$name.log" &
    pids+=($!)
    procs+=($!)
    wait_up "http://127.0.0.1:$port/healthz"
}

results=()
for topology in single all-pg all-pg-s3 2api-2wrk; do
    procs=()
    apis=()
    shared=()
    if [ "$topology" != single ]; then
        db=t_${topology//-/_}
        psql -q -d "$PG_URL" -c "CREATE DATABASE $db"
        curl -fs -X PUT "$AWS_ENDPOINT/$db" > /dev/null
        shared=(--database-url "${PG_URL%/postgres}/$db")
        [ "$topology" != all-pg ] && shared+=(--blob-store "s3://$db/blobs")
    fi
    case $topology in
        single | all-pg | all-pg-s3)
            port=$(free_port)
            serve "$topology" "$port" "${shared[@]}"
            apis=("http://127.0.0.1:$port")
            ;;
        2api-2wrk)
            for n in 1 2; do
                port=$(free_port)
                serve "$topology-api$n" "$port" --role api "${shared[@]}"
                apis+=("http://127.0.0.1:$port")
            done
            for n in 1 2; do
                serve "$topology-worker$n" "$(free_port)" --role worker "${shared[@]}"
            done
            ;;
    esac
    key=$(cat "$work"/"$topology"*.log | grep -o 'dik_[0-9a-f]*' | sed -n 1p)
    urls=$(IFS=,; echo "${apis[*]}")

    cpu0=$(cpu_of "${procs[@]}")
    busy0=$(machine_busy)
    ingest=$("$bin/examples/ingest_bench" "$urls" "$key" 200 | awk '/concurrent/ {print $(NF-1)}')
    cpu1=$(cpu_of "${procs[@]}")
    busy1=$(machine_busy)
    # 200 sequential + 200 concurrent documents went through (uploaded, polled, processed).
    ingest_cpu=$(per $((cpu1 - cpu0)) 400)
    ingest_machine=$(per $((busy1 - busy0)) 400)

    doc=$(curl -fs -H "Authorization: Bearer $key" "${apis[0]}/v2/documents?limit=1" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
    cpu0=$(cpu_of "${procs[@]}")
    busy0=$(machine_busy)
    wrk_out=()
    wrk_pids=()
    for api in "${apis[@]}"; do
        out="$work/$topology-wrk-${#wrk_out[@]}.txt"
        wrk -t1 -c$((conns / ${#apis[@]})) -d"${secs}s" --latency \
            -H "Authorization: Bearer $key" "$api/v2/documents/$doc" > "$out" &
        wrk_pids+=($!)
        wrk_out+=("$out")
    done
    wait "${wrk_pids[@]}"
    cpu1=$(cpu_of "${procs[@]}")
    busy1=$(machine_busy)
    requests=$(cat "${wrk_out[@]}" | awk '/requests in/ {n += $1} END {print n}')
    rps=$(cat "${wrk_out[@]}" | awk '/Requests\/sec/ {r += $2} END {printf "%.0f", r}')
    p99=$(awk '/^ +99%/ {print $2}' "${wrk_out[0]}")
    get_cpu=$(per $((cpu1 - cpu0)) "$requests")
    get_machine=$(per $((busy1 - busy0)) "$requests")
    results+=("$topology $ingest $ingest_cpu $ingest_machine $rps $p99 $get_cpu $get_machine")
    kill "${procs[@]}"
    wait "${procs[@]}" 2>/dev/null || true
done

echo
echo "| topology | ingest docs/s | CPU µs/doc: docintel, machine | GET one req/s | p99 | CPU µs/GET: docintel, machine |"
echo "| --- | --- | --- | --- | --- | --- |"
for r in "${results[@]}"; do
    read -r t ingest icpu imach rps p99 gcpu gmach <<< "$r"
    echo "| $t | $ingest | $icpu, $imach | $rps | $p99 | $gcpu, $gmach |"
done
