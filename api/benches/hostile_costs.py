#!/usr/bin/env python3
"""What the expensive requests an attacker can send cost a release build, on one server:

1. a compatibility check (no key) whose reader reuses three nested named records through
   aliases, at 40, 120 and 1,200 fields per level (the last near the 256 KiB limit):
   time, and the server's peak memory before and after (run last: an earlier build
   does not survive it; the server has 4 GiB of address space);
2. another team's history against one team's pacts for verification: its median time
   quiet, then after a noisy team stored 50 verification results at the size limit and
   2,000 versions of its own;
3. the matrix and can-i-deploy over 3,000 versions of one consumer, and a matrix query
   with 100 selectors.

    cargo build --release -p docintel-api --bin docintel
    python3 api/benches/hostile_costs.py [path/to/docintel]

Run it against an earlier build too for a baseline on the same machine.

Standard library only. Prints a Markdown table.
"""

import base64
import http.client
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("CARGO_TARGET_DIR", "target"), "release", "docintel")
rows = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port, key=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.key = key

    def call(self, method, path, body=None, ctype="application/json", key=True):
        headers = {}
        if key and self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        if body is not None:
            headers["Content-Type"] = ctype
            body = body if isinstance(body, (bytes, str)) else json.dumps(body)
        for attempt in range(2):
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data, time.perf_counter() - start
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                # The server closes connections idle past its header timeout.
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")


def key(data_dir, tenant, admin=False):
    args = [BIN, "keys", "create", "--data-dir", data_dir, "--tenant", tenant]
    if admin:
        args.append("--admin")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return re.search(r"dik_[0-9a-f]+", out).group(0)


def peak_rss_mib(pid):
    if not os.path.exists(f"/proc/{pid}/status"):
        return float("nan")
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def nested(n, reader):
    def level(name, first, by_name):
        fields = []
        for i in range(n):
            ty = first if i == 0 else by_name
            if reader:
                fields.append({"name": f"r{i}", "aliases": [f"f{i}"], "type": ty})
            else:
                fields.append({"name": f"f{i}", "type": ty})
        return {"type": "record", "name": name, "namespace": "deep", "fields": fields}
    bottom = "string" if reader else "int"
    return json.dumps(level("A", level("B", level("C", bottom, bottom), "deep.C"), "deep.B"))


def pact(consumer, provider, version):
    content = {
        "consumer": {"name": consumer}, "provider": {"name": provider},
        "interactions": [{"description": f"{consumer} {version} asks",
                          "request": {"method": "GET", "path": "/v2/documents"},
                          "response": {"status": 200}}],
        "metadata": {"pactSpecification": {"version": "3.0.0"}},
    }
    return {
        "pacticipantName": consumer, "pacticipantVersionNumber": version, "branch": "main",
        "contracts": [{"consumerName": consumer, "providerName": provider,
                       "specification": "pact", "contentType": "application/json",
                       "content": base64.b64encode(json.dumps(content).encode()).decode()}],
    }


def publish(client, consumer, provider, version):
    status, data, _ = client.call("POST", "/broker/contracts/publish", pact(consumer, provider, version))
    assert status in (200, 201), (status, data[:300])
    return json.loads(data)


def verify(client, consumer, provider, sha, version, results):
    body = {"success": True, "providerApplicationVersion": version, "testResults": results}
    path = f"/broker/pacts/provider/{provider}/consumer/{consumer}/pact-version/{sha}/verification-results"
    status, data, _ = client.call("POST", path, body)
    assert status == 201, (status, data[:300])


def median_ms(client, method, path, body=None, n=50):
    times = []
    for _ in range(n):
        status, data, t = client.call(method, path, body)
        assert status == 200, (status, data[:300])
        times.append(t * 1000)
    return statistics.median(times)


def main():
    work = tempfile.mkdtemp()
    data_dir = os.path.join(work, "data")
    admin = key(data_dir, "ops", admin=True)
    quiet_key = key(data_dir, "quiet")
    noisy_key = key(data_dir, "noisy")
    port = free_port()
    log = open(os.path.join(work, "serve.log"), "w")
    args = [BIN, "serve", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}",
            "--rate-limit", "off", "--ip-rate-limit", "off"]
    # An older build, measured as the baseline, has no per-address cap.
    help_text = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True).stdout
    if "--max-in-flight-per-address" in help_text:
        args += ["--max-in-flight-per-address", "off"]
    # 4 GiB of address space: a runaway request ends the server, not the machine.
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    server = subprocess.Popen(args, stderr=log, env={**os.environ, "RUST_LOG": "warn"},
                              preexec_fn=limit)
    try:
        for _ in range(400):
            try:
                if Client(port).call("GET", "/healthz", key=False)[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        run(port, admin, quiet_key, noisy_key, server.pid)
    finally:
        server.kill()
        server.wait()
    print("| measurement | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


def run(port, admin_key, quiet_key, noisy_key, pid):
    admin = Client(port, admin_key)
    quiet = Client(port, quiet_key)
    noisy = Client(port, noisy_key)
    anyone = Client(port)

    # 2. One team's pacts for verification, before and after another team's history.
    for c in range(10):
        for v in range(10):
            publish(quiet, f"team-{c}", "docintel", f"1.{v}.0")
    pfv = {"consumerVersionSelectors": [{"mainBranch": True}, {"deployedOrReleased": True}],
           "providerVersionBranch": "main", "includePendingStatus": True,
           "includeWipPactsSince": "2026-01-01"}
    path = "/broker/pacts/provider/docintel/for-verification"
    quiet_ms = median_ms(quiet, "POST", path, pfv)
    # The noisy team owns its provider by publishing as it first, then fills its history.
    publish(noisy, "noisy-provider", "noisy-db", "1")
    publish(noisy, "noisy-web", "noisy-provider", "1")
    status, data, _ = noisy.call(
        "GET", "/broker/pacts/provider/noisy-provider/consumer/noisy-web/version/1")
    noisy_sha = re.search(r"pact-version/([0-9a-f]+)", data.decode()).group(1)
    results = [{"interactionDescription": "x" * (250 * 1024)}]
    for i in range(50):
        verify(noisy, "noisy-web", "noisy-provider", noisy_sha, f"v{i}", results)
    for v in range(2000):
        publish(noisy, "noisy-web", "noisy-provider", f"2.{v}")
    noisy_ms = median_ms(quiet, "POST", path, pfv)
    rows.append(("pacts for verification (100 pacts), median, quiet",
                 f"{quiet_ms:.2f} ms"))
    rows.append(("the same after another team stored 50 results of 250 KiB and 2,000 versions",
                 f"{noisy_ms:.2f} ms ({noisy_ms / quiet_ms:.2f}×)"))

    # 3. The matrix over 3,000 versions of one consumer, each verified by docintel.
    for v in range(3000):
        publish(quiet, "web", "docintel", f"3.{v}.0")
    status, data, _ = admin.call("GET", "/broker/pacts/provider/docintel/consumer/web/version/3.2999.0")
    web_sha = re.search(r"pact-version/([0-9a-f]+)", data.decode()).group(1)
    verify(admin, "web", "docintel", web_sha, "d1", None)
    status, _, _ = admin.call("POST", "/broker/environments", {"name": "production", "production": True})
    assert status == 201, status
    q = "/broker/matrix?q[][pacticipant]=web&q[][pacticipant]=docintel&latestby=cvpv"
    status, data, t = quiet.call("GET", q)
    rows.append(("matrix, every one of 3,000 web versions against docintel",
                 f"{status}, {len(json.loads(data)['matrix'])} rows in {t * 1000:.0f} ms"))
    status, data, t = quiet.call("GET", "/broker/can-i-deploy?pacticipant=web&version=3.2999.0&environment=production")
    rows.append(("can-i-deploy, one of 3,000 versions, to an environment", f"{status} in {t * 1000:.1f} ms"))
    status, data, t = quiet.call("GET", "/broker/matrix?q[][pacticipant]=web")
    rows.append(("can-i-deploy without a version: 3,000 versions' rows", f"{status}, {len(json.loads(data)['matrix'])} rows in {t * 1000:.0f} ms"))
    many = "&".join(f"q[][pacticipant]=web&q[][version]=3.{v}.0" for v in range(100))
    status, data, t = quiet.call("GET", f"/broker/matrix?{many}&q[][pacticipant]=docintel")
    rows.append(("matrix with 101 selectors", f"{status} in {t * 1000:.1f} ms"))
    many = "&".join(f"q[][pacticipant]=web&q[][version]=3.{v}.0" for v in range(99))
    status, data, t = quiet.call("GET", f"/broker/matrix?{many}&q[][pacticipant]=docintel")
    rows.append(("matrix with 100 selectors", f"{status} in {t * 1000:.1f} ms"))

    # 1. The compatibility check, without a key, last: an older build may not survive it.
    ct = "application/vnd.schemaregistry.v1+json"
    for n in (40, 120, 1200):
        subject = f"deep{n}-value"
        status, _, _ = admin.call("POST", f"/registry/subjects/{subject}/versions",
                                  {"schema": nested(n, False)}, ct)
        assert status == 200, status
        before = peak_rss_mib(pid)
        reader = json.dumps({"schema": nested(n, True)})
        name = (f"compatibility check, {n} fields per level over three nested levels "
                f"({len(reader) // 1024} KiB)")
        try:
            status, _, t = Client(port).call(
                "POST", f"/registry/compatibility/subjects/{subject}/versions/latest",
                reader, ct, key=False)
        except OSError as e:
            rows.append((name, f"no answer ({type(e).__name__}); server peak RSS "
                               f"{before:.0f} → {peak_rss_mib(pid):.0f} MiB"))
            return
        rows.append((name, f"{status} in {t * 1000:.1f} ms; server peak RSS "
                           f"{before:.0f} → {peak_rss_mib(pid):.0f} MiB"))


if __name__ == "__main__":
    main()
