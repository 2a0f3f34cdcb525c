#!/usr/bin/env bash
# Start a private PostgreSQL cluster sized for the machine, for the rollover benchmark.
#
#   bash bench/tuned-postgres.sh [folder] [port]      (default: /var/tmp/abonnement-pg, 5433)
#   DATABASE_URL=postgres://postgres@127.0.0.1:5433/postgres .venv/bin/python bench/rollover.py --n 1000000
#   bash bench/tuned-postgres.sh stop [folder]
#
# A packaged PostgreSQL starts with settings for a small machine (shared_buffers 128 MB,
# max_wal_size 1 GB): at a million subscriptions the indexes the rollover writes no longer
# fit in its buffers and checkpoints come every few seconds. This cluster uses what a server
# with this machine's memory would be given. It leaves the system's server alone.
set -euo pipefail

bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
as_postgres() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [[ "${1:-}" == "stop" ]]; then
    folder="${2:-/var/tmp/abonnement-pg}"
    as_postgres "$bin/pg_ctl" -D "$folder/data" stop -m fast
    exit 0
fi

folder="${1:-/var/tmp/abonnement-pg}"
port="${2:-5433}"
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))
shared_mb=$(( memory_mb / 4 > 8192 ? 8192 : memory_mb / 4 ))   # a quarter of RAM, at most 8 GB

mkdir -p "$folder"
if [[ $(id -u) == 0 ]]; then chown postgres "$folder"; fi
if [[ ! -f "$folder/data/PG_VERSION" ]]; then
    as_postgres "$bin/initdb" -D "$folder/data" -A trust -U postgres >/dev/null
    cat >>"$folder/data/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$folder'
shared_buffers = ${shared_mb}MB
effective_cache_size = $(( memory_mb / 2 ))MB
max_wal_size = 8GB
checkpoint_timeout = 15min
maintenance_work_mem = 512MB
work_mem = 16MB
CONF
fi
as_postgres "$bin/pg_ctl" -D "$folder/data" -l "$folder/log" start -w >/dev/null
echo "DATABASE_URL=postgres://postgres@127.0.0.1:$port/postgres"
