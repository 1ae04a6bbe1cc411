# A throwaway PostgreSQL cluster on loopback, for ./test and api/benches/stores.sh
# (sourced, not run). The Rust tests have the same in docintel_testkit::postgres.
#
#   pg_cluster_start DIR [server options]   initdb + start in DIR; sets PG_URL
#   pg_cluster_stop DIR                     stop at once (as if it crashed)
#
# initdb refuses root: as root the cluster belongs to the `postgres` user.

# The newest Debian server programs, or nothing.
pg_bin_dir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_cluster_start() {
    local dir=$1 bin port
    shift
    bin=$(pg_bin_dir)
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$dir"
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pg_as_server_user "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync > "$dir/initdb.log"
    pg_as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $*" start > /dev/null
    PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

pg_cluster_stop() {
    pg_as_server_user "$(pg_bin_dir)/pg_ctl" -D "$1/data" -m immediate stop > /dev/null 2>&1 || true
}
