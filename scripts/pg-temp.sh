#!/usr/bin/env bash
# A throwaway PostgreSQL (15 or newer, Debian's package) for the test suites: a fresh cluster in
# a temp folder, run as the `postgres` user through `runuser` (PostgreSQL refuses to run as root;
# `sudo` is not installed), durability off (fsync, synchronous_commit: tests only), on
# 127.0.0.1:${PGTEMP_PORT:-55433}. Takes about a second.
#
#   eval "$(scripts/pg-temp.sh start)"   # prints the exports: LOCALTWILIO_TEST_POSTGRES, PGTEMP_DIR
#   scripts/pg-temp.sh stop "$PGTEMP_DIR"
set -euo pipefail

bin_dir() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [[ -z "$bin" ]]; then
        echo "pg-temp: no PostgreSQL under /usr/lib/postgresql (apt-get install -y postgresql)" >&2
        exit 1
    fi
    echo "$bin"
}

# Runs a command as the `postgres` user when we are root, else as ourselves.
as_postgres() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "${1:-start}" in
start)
    BIN=$(bin_dir)
    PORT=${PGTEMP_PORT:-55433}
    DIR=$(mktemp -d /tmp/pg-temp.XXXXXX)
    if [[ $(id -u) -eq 0 ]]; then chown postgres "$DIR"; fi
    as_postgres "$BIN/initdb" -D "$DIR/data" -U postgres -A trust --no-sync -E UTF8 \
        --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -o "-k $DIR \
        -c listen_addresses=127.0.0.1 -p $PORT -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=300 -c shared_buffers=64MB" start \
        >"$DIR/pg_ctl.log" 2>&1 || { cat "$DIR/pg_ctl.log" "$DIR/log" >&2; exit 1; }
    echo "export LOCALTWILIO_TEST_POSTGRES=postgres://postgres@127.0.0.1:$PORT/postgres"
    echo "export PGTEMP_DIR=$DIR"
    ;;
stop)
    DIR=${2:-${PGTEMP_DIR:-}}
    [[ -n "$DIR" && -d "$DIR/data" ]] || { echo "pg-temp: stop needs the folder start printed" >&2; exit 1; }
    as_postgres "$(bin_dir)/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
