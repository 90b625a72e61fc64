#!/usr/bin/env bash
# make bench: runs every benchmark in one go on this machine and prints one table.
# Usage: scripts/bench.sh BUILD_DIR
# Everything binds to 127.0.0.1; every load is bounded in time (BENCH_SECONDS, default 10).
# Benchmark programs print "BENCH <name> <value> <unit>" lines; this script collects them.
set -euo pipefail
build=${1:-build-bench}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-64}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/fg-bench-XXXXXX)
results="$work/results.txt"
: > "$results"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx/nginx.pid" ] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
record() { echo "BENCH $1 $2 $3" >> "$results"; }
wrk_rps() { # url → requests/s
  wrk -t2 -c"$conns" -d"${secs}s" --latency "$1" 2>/dev/null | awk '/Requests\/sec/ {print $2}'
}
wait_http() { # url
  for _ in $(seq 1 100); do curl -ksf -o /dev/null "$1" && return 0; sleep 0.1; done
  echo "bench: $1 did not come up" >&2; return 1
}

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ)" >&2

# ---- finguard GET /v1/health, plain HTTP and TLS ----------------------------------------
start_finguard() { # name tls → sets fg_port
  local dir="$work/$1" ; mkdir -p "$dir"
  fg_port=$(free_port)
  "$build/finguard" serve --data-dir "$dir" --set server.address=127.0.0.1 \
     --set server.port="$fg_port" --set server.tls="$2" --set log.level=warn \
     --set log.file="$dir/finguard.log" > "$dir/stdout.log" 2>&1 &
  pids+=($!)
}
start_finguard fg_plain false
wait_http "http://127.0.0.1:$fg_port/v1/health"
record finguard_health_http_rps "$(wrk_rps "http://127.0.0.1:$fg_port/v1/health")" req/s
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
start_finguard fg_tls true
wait_http "https://127.0.0.1:$fg_port/v1/health"
record finguard_health_https_rps "$(wrk_rps "https://127.0.0.1:$fg_port/v1/health")" req/s
cp "$work/fg_tls/tls/cert.pem" "$work/cert.pem"; cp "$work/fg_tls/tls/key.pem" "$work/key.pem"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

# ---- nginx serving a 100-byte static file, same cores, same certificate -----------------
mkdir -p "$work/nginx/html" "$work/nginx/logs"
chmod 755 "$work" "$work/nginx" "$work/nginx/html" # nginx workers run unprivileged
head -c 100 /dev/zero | tr '\0' 'x' > "$work/nginx/html/static.txt"
ng_port=$(free_port); ng_tls_port=$(free_port)
cat > "$work/nginx/nginx.conf" <<NGX
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$ng_port; root $work/nginx/html; }
  server { listen 127.0.0.1:$ng_tls_port ssl; root $work/nginx/html;
           ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem; }
}
NGX
if ! nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" -g 'daemon on;' 2>"$work/nginx/start.err"; then
  echo "bench: nginx did not start:" >&2
  cat "$work/nginx/start.err" "$work/nginx/logs/error.log" >&2 2>/dev/null
  exit 1
fi
wait_http "http://127.0.0.1:$ng_port/static.txt"
record nginx_static_http_rps "$(wrk_rps "http://127.0.0.1:$ng_port/static.txt")" req/s
record nginx_static_https_rps "$(wrk_rps "https://127.0.0.1:$ng_tls_port/static.txt")" req/s
kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true

# ---- writer group commit vs SQLite one row per transaction -------------------------------
"$build/bench_writer" --seconds "$secs" "$work" >> "$results"

# ---- further benchmarks add themselves here: every bench_* program but bench_writer -------
for b in "$build"/bench_*; do
  case "$(basename "$b")" in bench_writer) continue ;; esac
  [ -x "$b" ] && "$b" --seconds "$secs" "$work" >> "$results"
done

# ---- the table -------------------------------------------------------------------------------
python3 - "$results" <<'PY'
import sys
rows = {}
order = []
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 4 and parts[0] == "BENCH":
        rows[parts[1]] = (float(parts[2]), parts[3]); order.append(parts[1])
def ratio(a, b, name):
    if a in rows and b in rows and rows[b][0] > 0:
        rows[name] = (rows[a][0] / rows[b][0], "x"); order.append(name)
ratio("finguard_health_http_rps", "nginx_static_http_rps", "health_vs_nginx_http_ratio (goal >= 0.5)")
ratio("finguard_health_https_rps", "nginx_static_https_rps", "health_vs_nginx_https_ratio (goal >= 0.5)")
print("| benchmark | value | unit |")
print("|---|---:|---|")
for k in order:
    v, u = rows[k]
    print(f"| {k} | {v:,.2f} | {u} |" if v < 100 else f"| {k} | {v:,.0f} | {u} |")
PY
