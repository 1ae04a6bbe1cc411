#!/usr/bin/env bash
# The embedded Pact Broker under load: what a provider's verification asks for (pacts for
# verification with the usual selectors, pending and WIP) against the broker's index, the
# cheapest authenticated broker request, in the same run on the same server.
#
#   cargo build --release -p docintel-api --bin docintel
#   api/benches/broker.sh [consumers] [versions per consumer] [seconds] [connections]
#
# Needs wrk (Debian package `wrk`). Each consumer publishes its versions on branch main
# with distinct content, as consumer CI would. Prints each wrk summary and the ratio.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
consumers=${1:-10}
versions=${2:-10}
secs=${3:-8}
conns=${4:-16}
bin="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

port=$(free_port)
base="http://127.0.0.1:$port/broker"
RUST_LOG=${RUST_LOG:-warn} "$bin/docintel" serve --data-dir "$work/data" \
    --listen "127.0.0.1:$port" --rate-limit 1000000000/1 --max-in-flight-per-address off 2> "$work/serve.log" &
pid=$!
wait_up "http://127.0.0.1:$port/healthz"
key=$(grep -o 'dik_[0-9a-f]*' "$work/serve.log" | sed -n 1p)

start=$(date +%s.%N)
for c in $(seq "$consumers"); do
    for v in $(seq "$versions"); do
        pact=$(printf '{"consumer":{"name":"team-%s"},"provider":{"name":"docintel"},"interactions":[{"description":"version %s asks","request":{"method":"GET","path":"/v2/documents"},"response":{"status":200}}],"metadata":{"pactSpecification":{"version":"3.0.0"}}}' "$c" "$v")
        printf '{"pacticipantName":"team-%s","pacticipantVersionNumber":"1.%s.0","branch":"main","contracts":[{"consumerName":"team-%s","providerName":"docintel","specification":"pact","contentType":"application/json","content":"%s"}]}' \
            "$c" "$v" "$c" "$(printf '%s' "$pact" | base64 -w0)" > "$work/publish.json"
        curl -fs -o /dev/null -H "Authorization: Bearer $key" -H 'content-type: application/json' \
            --data-binary @"$work/publish.json" "$base/contracts/publish"
    done
done
end=$(date +%s.%N)
n=$((consumers * versions))
echo "published $n pacts ($consumers consumers x $versions versions) in $(echo "$end - $start" | bc) s, one curl each"

cat > "$work/verify.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"consumerVersionSelectors":[{"mainBranch":true},{"deployedOrReleased":true}],"providerVersionBranch":"main","includePendingStatus":true,"includeWipPactsSince":"2026-01-01"}'
EOF
selected=$(curl -fs -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"consumerVersionSelectors":[{"mainBranch":true},{"deployedOrReleased":true}],"providerVersionBranch":"main","includePendingStatus":true,"includeWipPactsSince":"2026-01-01"}' \
    "$base/pacts/provider/docintel/for-verification" | grep -o '"shortDescription"' | wc -l)
echo "for-verification selects $selected pacts"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" "$base/" > "$work/index.txt"
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" -s "$work/verify.lua" \
    "$base/pacts/provider/docintel/for-verification" > "$work/verify.txt"
echo "--- GET /broker/ (baseline)"; cat "$work/index.txt"
echo "--- POST /broker/pacts/provider/docintel/for-verification"; cat "$work/verify.txt"
for f in index verify; do
    if grep -q 'Non-2xx' "$work/$f.txt"; then echo "$f: non-2xx answers" >&2; exit 1; fi
done
echo "for-verification / index: $(echo "scale=4; $(rps "$work/verify.txt") / $(rps "$work/index.txt")" | bc)"
