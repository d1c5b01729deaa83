#!/usr/bin/env bash
# Start and stop a throwaway PostgreSQL cluster on a free loopback port.
# Source it, then `start_postgres` sets PG_URL; `stop_postgres` removes the cluster.
# The test suite's cluster trades durability for speed (fsync, synchronous_commit and
# full_page_writes off); `start_postgres durable` keeps PostgreSQL's durable defaults, as the
# benchmarks need: a commit there costs what it costs in production.
# PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.

_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return; }
  done
  dirname "$(command -v pg_ctl)"
}

_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  if ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
  local bin port fast
  bin=$(_pg_bin)
  fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${1:-}" = durable ] && fast=""
  PG_DIR=$(mktemp -d /tmp/otp-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
  _as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-sync -E UTF8 >/dev/null
  _as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 $fast -c max_connections=200" start >/dev/null
  PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  export PG_URL PG_DIR
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  _as_pg "$(_pg_bin)/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
