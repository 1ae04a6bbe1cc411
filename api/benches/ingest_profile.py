#!/usr/bin/env python3
"""Where the CPU of ingest goes, by stage, for two builds side by side (same machine,
same run, release builds, embedded SQLite store, Linux `perf` with software sampling):

    cargo build --release -p docintel-api --bin docintel -p docintel-e2e --example ingest_bench
    BASE=/path/to/older/docintel api/benches/ingest_profile.py [documents] [in flight]

The builds take turns twice, in the order base, new, new, base (a file system fills
up as a run goes: what a later run's file creations cost is not what an earlier run's
did, so neither build always goes second). Each run starts a build on a fresh data
folder, warms it with 64 documents, then sends
`documents` one-page text PDFs `in flight` at a time (examples/ingest_bench.rs) while
`perf record -a -g` samples every CPU at 1999 Hz. Samples of the server process, its
parser processes and its fork server are sorted into stages by what the kernel's call
stack says (the system call, a page fault) or, in user space, by the function running
(release builds have no frame pointers, so only the running function is known there).
Printed: microseconds of CPU per document per stage, for each build.
"""
import collections
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HZ = 1999
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release")

# (stage, test on a system call name) and (stage, pattern on a user-space function).
SYSCALLS = [
    ("thread hand-offs (futex, scheduling)", {"futex", "sched_yield", "nanosleep", "clock_nanosleep"}),
    ("files: open, write, fsync, rename (blobs, SQLite log)", {
        "openat", "open", "fsync", "fdatasync", "pwrite64", "pread64", "write", "read",
        "rename", "renameat", "renameat2", "unlink", "unlinkat", "statx", "newfstatat", "fstat",
        "close", "mkdir", "mkdirat", "fcntl", "lseek", "ftruncate", "fallocate", "getdents64",
    }),
    ("sockets and polling (HTTP, parser pipes)", {
        "epoll_wait", "epoll_ctl", "epoll_pwait", "recvfrom", "sendto", "writev", "readv",
        "recvmsg", "sendmsg", "accept4", "shutdown", "poll", "ppoll", "pipe2", "socketpair",
    }),
    ("process start and exit (fork, exec, exit, wait)", {
        "clone", "clone3", "execve", "exit_group", "exit", "wait4", "waitid", "kill",
        "prctl", "setpgid", "dup2", "dup3", "close_range", "prlimit64", "setrlimit",
        "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "seccomp",
    }),
    ("memory (mmap, brk, madvise)", {"mmap", "munmap", "mremap", "brk", "madvise", "mprotect"}),
]
USER = [
    ("thread hand-offs (futex, scheduling)", r"flume|parking_lot|futex|pthread_cond|tokio::runtime::park"),
    ("SQLite (statements, commit)", r"sqlite3|^sqlx|sqlx_sqlite|sqlx_core|libsqlite|walChecksum|pcache1|^rusqlite"),
    ("parsing the PDF", r"lopdf|pdf_extract|nom::|adobe_cmap|cff_parser|type1_encoding|encoding_rs|flate|miniz|weezl|euclid"),
    ("language and classification", r"whatlang|classify|unicode_normalization|docintel_backend::classify"),
    ("allocator", r"^_?mi_|mimalloc|malloc|^free$|_int_free|_int_malloc|cfree|realloc"),
    ("HTTP, JSON and the async runtime", r"tokio|hyper|axum|tower|h2::|http::|httparse|serde|mio::|futures|docintel_api|tracing|epoll_wait"),
    ("hashing, ids, time", r"sha2|sha256|uuid|time::|chrono|rand|getrandom|hex::"),
    ("events (Avro)", r"apache_avro|avro"),
    ("copying memory", r"memmove|memcpy|memset|memcmp|memchr|strlen|__memcmp"),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_up(url):
    for _ in range(400):
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"nothing answers at {url}")


def descendants(pid):
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def samples(path):
    """(comm, pid, frames) per sample of `perf script`."""
    text = subprocess.run(["perf", "script", "-i", path, "-F", "comm,pid,tid,ip,sym"],
                          capture_output=True, text=True).stdout
    for block in text.split("\n\n"):
        lines = block.strip("\n").split("\n")
        head = re.match(r"\s*(\S.*?)\s+(\d+)/(\d+)", lines[0]) if lines and lines[0] else None
        if not head:
            continue
        frames = []
        for line in lines[1:]:
            m = re.match(r"\s*[0-9a-f]+\s+(.*)$", line)
            if m:
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", m.group(1).strip()))
        yield head.group(1), int(head.group(2)), frames


def stage(frames):
    for f in frames:
        m = re.match(r"(?:__x64_sys_|__do_sys_|__se_sys_)(\w+)", f)
        if m:
            name = m.group(1)
            for label, calls in SYSCALLS:
                if name in calls:
                    return label
            return "other system calls"
        if f in ("asm_exc_page_fault", "exc_page_fault"):
            return "page faults (copy-on-write after fork, first touches)"
    # User space: the first function (from the running one outwards) that says whose
    # work it is.
    for f in frames:
        for label, pattern in USER:
            if re.search(pattern, f):
                return label
    top = frames[0] if frames else ""
    if top == "[unknown]" or not top:
        return "unknown"
    if any(k in top for k in ("irq", "softirq", "schedule", "finish_task_switch", "_raw_spin")):
        return "interrupts and scheduling"
    return "other"


def profile(name, binary, docs, in_flight, work):
    port = free_port()
    data = os.path.join(work, name)
    log = open(os.path.join(work, name + ".log"), "w+")
    server = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
         "--rate-limit", "off", "--ip-rate-limit", "off", "--max-in-flight-per-address", "off"],
        stderr=log, env={**os.environ, "RUST_LOG": "warn"})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base + "/readyz")
        log.seek(0)
        key = re.search(r"dik_[0-9a-f]+", log.read()).group(0)
        bench = [os.path.join(BIN, "examples", "ingest_bench"), base, key]
        env = {**os.environ, "INGEST_BENCH_CONCURRENT_ONLY": "1"}
        subprocess.run(bench + ["64", str(in_flight)], env=env, check=True, capture_output=True)
        # The fork server (and spares) exist by now; children forked later are told apart
        # by their parent afterwards, so every non-server pid of the build's binary that
        # is not a known other process counts as its parser.
        known = {server.pid, *descendants(server.pid)}
        perf_data = os.path.join(work, name + ".perf")
        out = subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", str(HZ), "-a", "-g",
                              "-o", perf_data, "--"] + bench + [str(docs), str(in_flight)],
                             env=env, check=True, capture_output=True, text=True).stdout
        rate = re.search(r"= (\d+) docs/s", out).group(1)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
        shutil.rmtree(data, ignore_errors=True)
    comm = os.path.basename(binary)[:15]
    per_stage = collections.Counter()
    for c, pid, frames in samples(perf_data):
        if pid == server.pid:
            who = "server"
        elif pid in known or c == comm:
            who = "parsers"
        else:
            continue
        per_stage[(who, stage(frames))] += 1
    return rate, per_stage


def main():
    docs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    in_flight = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    base = os.environ.get("BASE") or sys.exit("BASE=<the docintel binary to compare with>")
    work = tempfile.mkdtemp()
    binaries = {"base": base, "new": os.path.join(BIN, "docintel")}
    results = {name: ([], collections.Counter()) for name in binaries}
    try:
        for turn, name in enumerate(("base", "new", "new", "base")):
            rate, per_stage = profile(f"{name}{turn}", binaries[name], docs, in_flight, work)
            results[name][0].append(rate)
            results[name][1].update(per_stage)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results = {name: ("/".join(rates), counts) for name, (rates, counts) in results.items()}
    docs *= 2
    us = lambda n: n / HZ / docs * 1e6
    keys = sorted({k for _, s in results.values() for k in s},
                  key=lambda k: -results["base"][1][k] - results["new"][1][k])
    print(f"{docs // 2} one-page text PDFs per run, {in_flight} in flight, SQLite; "
          f"base {results['base'][0]} docs/s, new {results['new'][0]} docs/s")
    print("| process | stage | base µs/doc | new µs/doc |")
    print("| --- | --- | --- | --- |")
    for who, label in keys:
        b, n = us(results["base"][1][(who, label)]), us(results["new"][1][(who, label)])
        if b >= 20 or n >= 20:
            print(f"| {who} | {label} | {b:.0f} | {n:.0f} |")
    for who in ("server", "parsers"):
        b = us(sum(v for (w, _), v in results["base"][1].items() if w == who))
        n = us(sum(v for (w, _), v in results["new"][1].items() if w == who))
        print(f"| {who} | **all** | {b:.0f} | {n:.0f} |")
    b = us(sum(results["base"][1].values()))
    n = us(sum(results["new"][1].values()))
    print(f"| **both** | **all** | {b:.0f} | {n:.0f} |")


if __name__ == "__main__":
    main()
