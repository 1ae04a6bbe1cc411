# What the benchmark scripts share (sourced, not run).

# wait_up [curl options…] URL: until URL answers 2xx (20 s at most).
wait_up() {
    for _ in $(seq 400); do
        curl -fs "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "nothing answers at ${*: -1}" >&2
    exit 1
}

# A free loopback port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ticks=$(getconf CLK_TCK)
# CPU ticks (user+system, reaped children included) of the given pids; one that has
# exited meanwhile counts nothing.
cpu_of() {
    local total=0 pid
    for pid in "$@"; do
        # Fields after the command name: utime stime cutime cstime are 12..15 of the rest.
        total=$((total + $(awk '{sub(/.*\) /, ""); print $12 + $13 + $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
# Busy CPU ticks of the whole machine.
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
per() { python3 -c "import sys; print(f'{int(sys.argv[1]) / $ticks / int(sys.argv[2]) * 1e6:.0f}')" "$1" "$2"; }

# For a script running one server ($pid) on one throwaway cluster ($pg_dir, see
# tests/postgres-cluster.sh) at a time, with its files in $work: what is left, stopped
# and removed (the EXIT trap).
stop_server_and_cluster() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    [ -n "$pg_dir" ] && pg_cluster_stop "$pg_dir" && rm -rf "$pg_dir"
    rm -rf "$work"
}
