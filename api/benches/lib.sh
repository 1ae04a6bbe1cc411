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
