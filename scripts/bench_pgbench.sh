#!/usr/bin/env bash
# bench_pgbench.sh — the peer of bench_transfers (issue #5): pgbench's TPC-B-like transaction
# against a throw-away PostgreSQL cluster on 127.0.0.1, in the same run, on the same cores.
#
# Usage: scripts/bench_pgbench.sh [SECONDS] [CLIENTS] [PARENT_DIR]
#        (defaults: $FG_BENCH_SECONDS or 20, 64, /tmp)
# Prints on stdout only "BENCH <name> <value> <unit>" lines:
#   pgbench_tpcb_tps, pgbench_latency_avg_ms, pgbench_p50_ms, pgbench_p99_ms, pgbench_clients,
#   pgbench_wal_kib (WAL bytes per transaction in the measured run, for the write-volume contrast).
# The narrative goes to stderr. Exit 0 ok, 1 on any failure (nothing is left behind either way).
#
# The cluster: initdb in a temp dir (a fresh one every run), owned by and run as an
# unprivileged user when we are root (`nobody`: PostgreSQL refuses to run as root), listening
# on 127.0.0.1:<free port> and a unix socket in the temp dir only. Durability is PostgreSQL's
# default, the same promise as finguard's synchronous=FULL: fsync=on, synchronous_commit=on,
# full_page_writes=on, wal_sync_method default (fdatasync). Tuned like a sane server rather
# than a laptop default, which favours PostgreSQL: shared_buffers=1GB (the whole -s 64 data
# set, ~1 GB, stays in memory) and max_wal_size=4GB (no forced checkpoint inside the run).
# The load: `pgbench -i -s 64` (6.4 M accounts), then a 3 s warm-up run, then
# `pgbench -c CLIENTS -j 2 -T SECONDS -M prepared` over TCP to 127.0.0.1 (no TLS) with
# per-transaction logs for the percentiles. Bounded: every step has a timeout, the cluster
# is stopped and its directory removed on every exit path.
set -euo pipefail

secs=${1:-${FG_BENCH_SECONDS:-20}}
clients=${2:-64}
parent=${3:-/tmp}
scale=64
warmup=3

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ] || [ ! -x "$pgbin/pg_ctl" ] || [ ! -x "$pgbin/pgbench" ]; then
  echo "bench_pgbench: no PostgreSQL in /usr/lib/postgresql/*/bin (scripts/install-deps.sh --bench)" >&2
  exit 1
fi

tmp=$(mktemp -d "$parent/fg-pgbench-XXXXXX")
data="$tmp/data"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody "$tmp"
  as_pg=(runuser -u nobody --)
fi
chmod 700 "$tmp"
pg() { "${as_pg[@]}" "$@"; }
started=0
cleanup() {
  if [ "$started" -eq 1 ]; then
    pg timeout 60 "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 ||
      pg timeout 30 "$pgbin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== pgbench: PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') in $tmp, port $port" >&2
pg timeout 120 "$pgbin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
  >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp'
max_connections = $((clients + 16))
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 1GB
max_wal_size = 4GB
logging_collector = off
CONF
pg timeout 60 "$pgbin/pg_ctl" -D "$data" -l "$tmp/server.log" -w start >/dev/null ||
  { cat "$tmp/server.log" >&2; exit 1; }
started=1
conn=(-h 127.0.0.1 -p "$port" -U postgres)
pg timeout 60 "$pgbin/createdb" "${conn[@]}" bench
t0=$(date +%s)
pg timeout 900 "$pgbin/pgbench" "${conn[@]}" -i -s "$scale" -q bench >"$tmp/init.log" 2>&1 ||
  { tail -n 20 "$tmp/init.log" >&2; exit 1; }
echo "== pgbench: -i -s $scale took $(($(date +%s) - t0)) s" >&2
# a warm-up as long as bench_transfers' (connections, caches, prepared statements)
pg timeout $((warmup + 60)) "$pgbin/pgbench" "${conn[@]}" -c "$clients" -j 2 -T "$warmup" \
  -M prepared -n bench >/dev/null 2>&1 || { echo "bench_pgbench: warm-up failed" >&2; exit 1; }
lsn0=$(pg "$pgbin/psql" "${conn[@]}" -d bench -Atc 'SELECT pg_current_wal_lsn()')
pg timeout $((secs + 120)) "$pgbin/pgbench" "${conn[@]}" -c "$clients" -j 2 -T "$secs" \
  -M prepared -n -l --log-prefix="$tmp/txlog" bench >"$tmp/run.log" 2>&1 ||
  { cat "$tmp/run.log" >&2
wal=$(pg "$pgbin/psql" "${conn[@]}" -d bench -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')"); exit 1; }
cat "$tmp/run.log" >&2
wal=$(pg "$pgbin/psql" "${conn[@]}" -d bench -Atc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")
tps=$(awk '/^tps = / {print $3; exit}' "$tmp/run.log")
lat=$(awk '/^latency average = / {print $4; exit}' "$tmp/run.log")
failed=$(awk '/^number of failed transactions: / {print $5; exit}' "$tmp/run.log")
if [ -z "$tps" ] || [ -z "$lat" ]; then
  echo "bench_pgbench: no tps / latency in pgbench's output" >&2
  exit 1
fi
# per-transaction logs: client_id transaction_no time_us script_no epoch epoch_us
read -r p50 p99 n < <(cat "$tmp"/txlog.* | awk '{print $3}' | sort -n |
  awk '{v[NR] = $1} END { if (NR == 0) { print 0, 0, 0; exit }
    i50 = int((NR - 1) * 0.50) + 1; i99 = int((NR - 1) * 0.99) + 1
    printf "%.2f %.2f %d\n", v[i50] / 1000, v[i99] / 1000, NR }')
echo "== pgbench: $n transactions logged; failed: ${failed:-0}" >&2
echo "BENCH pgbench_tpcb_tps $tps 1/s"
echo "BENCH pgbench_latency_avg_ms $lat ms"
echo "BENCH pgbench_p50_ms $p50 ms"
echo "BENCH pgbench_p99_ms $p99 ms"
echo "BENCH pgbench_clients $clients connections"
if [ -n "$n" ] && [ "$n" -gt 0 ] && [ -n "$wal" ]; then
  awk -v w="$wal" -v n="$n" 'BEGIN { printf "BENCH pgbench_wal_kib %.2f KiB/tx\n", w / 1024 / n }'
fi
