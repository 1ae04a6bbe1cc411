#!/usr/bin/env bash
# GET /v2/documents/{id} against a bare axum hello-world, same machine, same run.
#
#   cargo build --release -p docintel-api --bin docintel --example hello_axum
#   api/benches/get_throughput.sh [seconds] [connections]
#
# Needs wrk (Debian package `wrk`). Prints each wrk summary and the ratio
# docintel / hello (the product target is >= 0.5 with p99 < 10 ms at 64 connections).
# With fastapi and uvicorn[standard] installed, also the same GET from FastAPI
# (api/benches/fastapi_peer.py, 2 workers, reading docintel's database) as a peer.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
secs=${1:-8}
conns=${2:-64}
bin="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }

"$bin/examples/hello_axum" 127.0.0.1:18801 &
pids+=($!)
wait_up http://127.0.0.1:18801/
wrk -t2 -c"$conns" -d"${secs}s" --latency http://127.0.0.1:18801/ > "$work/hello.txt"
kill "${pids[0]}"

RUST_LOG=${RUST_LOG:-info} "$bin/docintel" serve --data-dir "$work/data" --listen 127.0.0.1:18802 \
    --rate-limit 1000000000/1 --max-in-flight-per-address off 2> "$work/serve.log" &
pids+=($!)
wait_up http://127.0.0.1:18802/healthz
key=$(grep -o 'dik_[0-9a-f]*' "$work/serve.log" | sed -n 1p)
printf 'Quarterly report: revenue grew while costs fell.\n' > "$work/doc.txt"
loc=$(curl -fs -D - -o /dev/null -H "Authorization: Bearer $key" --data-binary @"$work/doc.txt" \
    "http://127.0.0.1:18802/v2/documents?filename=doc.txt" | tr -d '\r' | awk -F': ' 'tolower($1)=="location" {print $2}')
for _ in $(seq 200); do
    curl -fs -H "Authorization: Bearer $key" "http://127.0.0.1:18802$loc" | grep -q '"processed"' && break
    sleep 0.05
done
curl -fs -H "Authorization: Bearer $key" "http://127.0.0.1:18802$loc" | grep -q '"processed"'
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" \
    "http://127.0.0.1:18802$loc" > "$work/docintel.txt"

kill "${pids[1]}"
wait "${pids[1]}" 2>/dev/null || true
if python3 -c 'import fastapi, uvicorn, uvloop, httptools' 2>/dev/null; then
    DOCINTEL_DB="$work/data/docintel.db" python3 -m uvicorn --app-dir api/benches fastapi_peer:app \
        --host 127.0.0.1 --port 18803 --workers 2 --no-access-log --log-level warning &
    pids+=($!)
    wait_up -H "Authorization: Bearer $key" "http://127.0.0.1:18803$loc"
    wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" \
        "http://127.0.0.1:18803$loc" > "$work/fastapi.txt"
else
    echo "(FastAPI peer skipped: python3 -m pip install fastapi 'uvicorn[standard]')" > "$work/fastapi.txt"
fi

echo "== hello-axum GET /"; sed -n '3,12p' "$work/hello.txt"; grep 'Requests/sec' "$work/hello.txt"
echo "== docintel GET $loc"; sed -n '3,12p' "$work/docintel.txt"; grep 'Requests/sec' "$work/docintel.txt"
grep -q 'Non-2xx' "$work/docintel.txt" && { echo "docintel answered errors:"; grep 'Non-2xx' "$work/docintel.txt"; exit 1; }
echo "== FastAPI GET $loc"; sed -n '3,12p' "$work/fastapi.txt"; grep 'Requests/sec' "$work/fastapi.txt" || true
awk -v d="$(rps "$work/docintel.txt")" -v h="$(rps "$work/hello.txt")" \
    'BEGIN { printf "ratio docintel/hello = %.2f\n", d / h }'
f=$(rps "$work/fastapi.txt")
[ -n "$f" ] && awk -v d="$(rps "$work/docintel.txt")" -v f="$f" \
    'BEGIN { printf "ratio docintel/FastAPI = %.1f\n", d / f }'
exit 0
