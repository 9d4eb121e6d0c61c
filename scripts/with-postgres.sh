#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL server: installs PostgreSQL from Debian's packages when
# it is missing, starts a private cluster on a free loopback port, exports TEST_DATABASE_URL, and removes
# the cluster afterwards whatever the command's outcome.
set -euo pipefail

find_pg_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! PG_BIN=$(find_pg_bin); then
  echo "with-postgres: installing PostgreSQL from Debian's packages" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(find_pg_bin)
fi

# initdb refuses to run as root, so a root caller runs the server as the postgres system user.
RUN_AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  RUN_AS=(runuser -u postgres --)
fi

PGDATA_DIR=$(mktemp -d /tmp/dti-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$PGDATA_DIR"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA_DIR"
}
trap cleanup EXIT

"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PGDATA_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
# Tests trade durability for speed; benchmarks and fault tests (PG_DURABLE=1) run with production's settings,
# where every acknowledged commit is flushed to disk.
if [ "${PG_DURABLE:-0}" = 1 ]; then
  SETTINGS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
else
  SETTINGS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/server.log" -w -o \
  "-p $PORT -k $PGDATA_DIR -c listen_addresses=127.0.0.1 $SETTINGS -c max_connections=200" \
  start >/dev/null
"${RUN_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres dti_test

export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/dti_test"
export TEST_PG_BIN="$PG_BIN"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
"$@"
