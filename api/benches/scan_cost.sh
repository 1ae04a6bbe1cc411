#!/usr/bin/env bash
# What malware scanning costs, per document and per MB: one release server without
# scanning and one with `--clamd` (a real clamd with a one-signature database written
# here, as the tests do), same machine, same run:
#
#   cargo build --release -p docintel-api --bin docintel
#   api/benches/scan_cost.sh [pdf uploads] [10 MB uploads]
#
# For each server, sequentially: N one-page text PDFs, then M 10 MB text files, each
# uploaded and polled (every 2 ms) until processed. Prints the median upload→processed
# time of each, per document and per MB, and the scanned server's as a ratio of the
# unscanned one's. Needs clamd (Debian's clamav-daemon) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=api/benches/lib.sh
. api/benches/lib.sh
pdfs=${1:-200}
bigs=${2:-10}
bin="${CARGO_TARGET_DIR:-target}/release"
clamd_bin=$(PATH="$PATH:/usr/sbin" command -v clamd)
work=$(mktemp -d)
pids=()
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/clamd/db" "$work/clamd/tmp"
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
echo "44d88612fea8a8f36de82e1278abb02f:68:Bench-EICAR" > "$work/clamd/db/eicar.hdb"
echo "Bench-EICAR:0:*:$(printf '%s' "$eicar" | od -An -tx1 | tr -d ' \n')" > "$work/clamd/db/eicar.ndb"
cat > "$work/clamd/clamd.conf" <<EOF
DatabaseDirectory $work/clamd/db
LocalSocket $work/clamd/clamd.sock
TemporaryDirectory $work/clamd/tmp
Foreground yes
$([ "$(id -u)" = 0 ] && echo "User root")
EOF
"$clamd_bin" -c "$work/clamd/clamd.conf" > "$work/clamd.log" 2>&1 &
pids+=($!)

# serve NAME PORT ARGS...
serve() {
    local name=$1 port=$2
    shift 2
    RUST_LOG=warn "$bin/docintel" serve --listen "127.0.0.1:$port" --data-dir "$work/$name" \
        --workers 2 --rate-limit off "$@" > "$work/$name.log" 2>&1 &
    pids+=($!)
    wait_up "http://127.0.0.1:$port/readyz"
}
plain=$(free_port)
scanned=$(free_port)
serve plain "$plain"
for _ in $(seq 300); do [ -S "$work/clamd/clamd.sock" ] && break; sleep 0.1; done
serve scanned "$scanned" --clamd "unix:$work/clamd/clamd.sock"
curl -fs "http://127.0.0.1:$scanned/readyz" | grep -q '"answers":true' || {
    echo "clamd does not answer" >&2
    exit 1
}

python3 - "$pdfs" "$bigs" "http://127.0.0.1:$plain" "$(grep -o 'dik_[0-9a-f]*' "$work/plain.log" | sed -n 1p)" \
    "http://127.0.0.1:$scanned" "$(grep -o 'dik_[0-9a-f]*' "$work/scanned.log" | sed -n 1p)" <<'EOF'
import statistics, sys, time, httpx

pdfs, bigs = int(sys.argv[1]), int(sys.argv[2])
servers = {"without scanning": (sys.argv[3], sys.argv[4]), "--clamd": (sys.argv[5], sys.argv[6])}

def pdf(text):
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)

def timed(client, base, key, name, body):
    start = time.perf_counter()
    r = client.post(f"{base}/v2/documents", params={"filename": name}, content=body,
                    headers={"authorization": f"Bearer {key}"})
    assert r.status_code == 202, r.text
    doc = r.json()["id"]
    while True:
        v = client.get(f"{base}/v2/documents/{doc}", headers={"authorization": f"Bearer {key}"}).json()
        if v["status"] in ("processed", "failed"):
            assert v["status"] == "processed", v
            return (time.perf_counter() - start) * 1000
        time.sleep(0.002)

big = b"quarterly revenue grew in every region; invoices were paid on time\n" * (10_000_000 // 68)
mb = len(big) / 1e6
results = {}
with httpx.Client(timeout=120) as client:
    for name, (base, key) in servers.items():
        for i in range(5):  # warm up
            timed(client, base, key, "warm.pdf", pdf(f"warm up {i}"))
        small = [timed(client, base, key, "bench.pdf", pdf(f"Invoice {i} total due 100 EUR")) for i in range(pdfs)]
        large = [timed(client, base, key, "big.txt", big + str(i).encode()) for i in range(bigs)]
        results[name] = (statistics.median(small), statistics.median(large))

base_small, base_large = results["without scanning"]
print(f"| server | 1-page PDF: ms/doc (median of {pdfs}) | 10 MB text: ms/MB (median of {bigs}) |")
print("| --- | --- | --- |")
for name, (small, large) in results.items():
    print(f"| {name} | {small:.2f} ({small / base_small:.2f}×) | {large / mb:.2f} ({large / base_large:.2f}×) |")
scan_small, scan_large = results["--clamd"]
print(f"\nscanning adds {scan_small - base_small:.2f} ms per 1-page PDF and "
      f"{(scan_large - base_large) / mb:.2f} ms per MB")
EOF
