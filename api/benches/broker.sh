#!/usr/bin/env bash
# The embedded Pact Broker under load with a long history, on SQLite and PostgreSQL: what
# a provider's verification asks for (pacts for verification with the usual selectors,
# pending and WIP) and what a consumer's deploy asks (can-i-deploy to production), against
# the broker's index, the cheapest authenticated broker request, in the same run on the
# same server. Each store is measured twice over the same records: as served (answers kept
# while the records are unchanged) and with `--broker-read-cache 0`, every answer computed
# from the records, which is also what the first request after each write costs.
#
#   cargo build --release -p docintel-api --bin docintel
#   api/benches/broker.sh [consumers] [versions per consumer] [seconds] [connections] [stores]
#
# stores: "sqlite postgres" (default) or either. DOCINTEL_BIN runs another build (e.g.
# main's, for a before/after). Needs wrk and, for PostgreSQL, the server programs (Debian
# `wrk`, `postgresql`). History: each consumer publishes its versions on branch main with
# distinct content, as consumer CI would; docintel version p<N> (on main) verifies every
# consumer's N-th version; docintel's last version and each consumer's middle version are
# deployed to production. Prints each wrk summary and one table with the ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
consumers=${1:-10}
versions=${2:-10}
secs=${3:-8}
conns=${4:-16}
stores=${5:-sqlite postgres}
command -v wrk > /dev/null || { echo "needs wrk (Debian package wrk)" >&2; exit 1; }
bin=${DOCINTEL_BIN:-${CARGO_TARGET_DIR:-target}/release/docintel}
work=$(mktemp -d)
pg_dir=
pid=
trap stop_server_and_cluster EXIT

# seed BASE KEY: the history above, over one keep-alive connection per thread.
seed() {
    python3 - "$1" "$2" "$consumers" "$versions" <<'PY'
import base64, http.client, json, sys, urllib.parse
from concurrent.futures import ThreadPoolExecutor
base, key, consumers, versions = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
url = urllib.parse.urlsplit(base)
headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

def call(conn, method, path, body=None):
    conn.request(method, url.path + path, body=None if body is None else json.dumps(body),
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return data

def publish(c):
    conn = http.client.HTTPConnection(url.hostname, url.port)
    shas = {}
    for v in range(1, versions + 1):
        pact = {"consumer": {"name": f"team-{c}"}, "provider": {"name": "docintel"},
                "interactions": [{"description": f"version {v} asks",
                                  "request": {"method": "GET", "path": "/v2/documents"},
                                  "response": {"status": 200}}],
                "metadata": {"pactSpecification": {"version": "3.0.0"}}}
        body = {"pacticipantName": f"team-{c}", "pacticipantVersionNumber": f"1.{v}.0",
                "branch": "main", "contracts": [{
                    "consumerName": f"team-{c}", "providerName": "docintel",
                    "specification": "pact", "contentType": "application/json",
                    "content": base64.b64encode(json.dumps(pact).encode()).decode()}]}
        call(conn, "POST", "/contracts/publish", body)
        pact = json.loads(call(conn, "GET", f"/pacts/provider/docintel/consumer/team-{c}/version/1.{v}.0"))
        shas[v] = pact["_links"]["pb:pact-version"]["name"]
    return c, shas

def verify(v, shas):
    conn = http.client.HTTPConnection(url.hostname, url.port)
    call(conn, "PUT", f"/pacticipants/docintel/branches/main/versions/p{v}")
    for c in range(1, consumers + 1):
        call(conn, "POST", f"/pacts/provider/docintel/consumer/team-{c}/pact-version/"
             f"{shas[c][v]}/verification-results",
             {"success": True, "providerApplicationVersion": f"p{v}"})

with ThreadPoolExecutor(4) as pool:
    shas = dict(pool.map(publish, range(1, consumers + 1)))
# Provider versions in order: p1 first, as a provider's CI makes them.
conn = http.client.HTTPConnection(url.hostname, url.port)
for v in range(1, versions + 1):
    verify(v, shas)
env = json.loads(call(conn, "POST", "/environments", {"name": "production", "production": True}))
uuid = env["uuid"]
call(conn, "POST", f"/pacticipants/docintel/versions/p{versions}/deployed-versions/environment/{uuid}", {})
for c in range(1, consumers + 1):
    call(conn, "POST", f"/pacticipants/team-{c}/versions/1.{(versions + 1) // 2}.0"
         f"/deployed-versions/environment/{uuid}", {})
PY
}

# measure NAME [wrk options] URL: "req/s p99" of wrk against URL.
measure() {
    local name=$1
    shift
    wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" "$@" > "$work/$name.txt"
    echo "--- $name" >&2
    cat "$work/$name.txt" >&2
    if grep -q 'Non-2xx' "$work/$name.txt"; then echo "$name: non-2xx answers" >&2; exit 1; fi
    awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} END {print rps, p99}' "$work/$name.txt"
}

body='{"consumerVersionSelectors":[{"mainBranch":true},{"deployedOrReleased":true}],"providerVersionBranch":"main","includePendingStatus":true,"includeWipPactsSince":"2026-01-01"}'
cat > "$work/verify.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
EOF

results=()
for store in $stores; do
    data=(--data-dir "$work/$store")
    if [ "$store" = postgres ]; then
        # shellcheck source=tests/postgres-cluster.sh
        . tests/postgres-cluster.sh
        pg_dir=$(mktemp -d)
        pg_cluster_start "$pg_dir"
        data+=(--database-url "$PG_URL")
    fi
    # An admin key: only admins publish docintel's own verification results.
    key=$("$bin" keys create --tenant bench --admin "${data[@]}" 2> "$work/$store-keys.log")
    port=$(free_port)
    base="http://127.0.0.1:$port/broker"
    deploy="$base/can-i-deploy?pacticipant=team-1&version=1.$versions.0&environment=production"
    for cache in kept computed; do
        cache_option=()
        [ "$cache" = computed ] && cache_option=(--broker-read-cache 0)
        RUST_LOG=${RUST_LOG:-warn} "$bin" serve "${data[@]}" "${cache_option[@]}" \
            --listen "127.0.0.1:$port" --rate-limit 1000000000/1 \
            --max-in-flight-per-address off 2> "$work/$store-$cache.log" &
        pid=$!
        wait_up "http://127.0.0.1:$port/healthz"
        if [ "$cache" = kept ]; then
            start=$(date +%s.%N)
            seed "$base" "$key"
            end=$(date +%s.%N)
            echo "$store: $consumers consumers x $versions versions, each verified, seeded in $(echo "$end - $start" | bc) s" >&2
        fi
        selected=$(curl -fs -H "Authorization: Bearer $key" -H 'content-type: application/json' \
            -d "$body" "$base/pacts/provider/docintel/for-verification" | grep -o '"shortDescription"' | wc -l)
        echo "$store ($cache): for-verification selects $selected pacts" >&2
        curl -s -H "Authorization: Bearer $key" "$deploy" > "$work/deploy.json"
        grep -q '"deployable":true' "$work/deploy.json" \
            || { echo "$store: can-i-deploy does not answer deployable: $(cat "$work/deploy.json")" >&2; exit 1; }
        read -r irps ip99 <<< "$(measure "$store-$cache-index" "$base/")"
        read -r vrps vp99 <<< "$(measure "$store-$cache-for-verification" -s "$work/verify.lua" \
            "$base/pacts/provider/docintel/for-verification")"
        read -r drps dp99 <<< "$(measure "$store-$cache-can-i-deploy" "$deploy")"
        results+=("$store $cache $irps $ip99 $vrps $vp99 $drps $dp99")
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        pid=
    done
    if [ -n "$pg_dir" ]; then pg_cluster_stop "$pg_dir"; rm -rf "$pg_dir"; pg_dir=; fi
done

echo
echo "$consumers consumers x $versions versions, $conns connections, ${secs}s each, $(basename "$bin")"
echo "| store | answers | GET /broker/ req/s, p99 | for-verification req/s, p99 (÷ index) | can-i-deploy req/s, p99 (÷ index) |"
echo "| --- | --- | --- | --- | --- |"
for r in "${results[@]}"; do
    read -r store cache irps ip99 vrps vp99 drps dp99 <<< "$r"
    echo "| $store | $cache | $irps, $ip99 | $vrps, $vp99 ($(echo "scale=3; $vrps / $irps" | bc)) | $drps, $dp99 ($(echo "scale=3; $drps / $irps" | bc)) |"
done
