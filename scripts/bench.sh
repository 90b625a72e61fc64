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
  case "$(basename "$b")" in bench_writer|bench_argon2|bench_transfers|bench_alerts) continue ;; esac
  [ -x "$b" ] && "$b" --seconds "$secs" "$work" >> "$results"
done

# ==== BEGIN monitoring (issue #6; bench/bench_monitor.c, bench/bench_alerts.c, bench_fail2ban.sh)
# (a) bench_monitor (run by the bench_* loop above): rule engine events/s on one core with the
#     shipped pack (goal >= 1 M/s); assess_transfer / assess_login p50/p99 (goal p99 <= 20 us).
# (b) bench_alerts: event-commit-to-alert latency through a real server (plain HTTP, loopback,
#     keys.dev_mode, trusted proxy 127.0.0.1): 4 client threads send 5 failed logins from each
#     of $FG_BENCH_ALERT_ADDRESSES (default 2000) X-Forwarded-For addresses, for at most
#     $FG_BENCH_ALERT_SECONDS (default 180); auth.bruteforce.ip fires at each 5th failure and
#     blocks the address; p50/p99 from the server's finguard_monitor_alert_latency_ms histogram
#     (bucket upper bounds). Goal: p99 <= 5 ms. alert_detect_* is the detection part alone
#     (finguard_monitor_detect_latency_ms: event commit -> firing found, before its write).
# (c) bench_fail2ban.sh: fail2ban-regex (stock sshd filter) vs `finguard events replay --decoder
#     sshd` over the same synthetic auth log ($FG_BENCH_LOG_LINES, default 200000 lines;
#     finguard is timed over it repeated 10 times, median of 3 — one pass is only ~50 ms).
#     Goal: >= 100x lines/s and the same brute-force sources.
# A failure here is reported (after the table) but does not stop the other benchmarks.
mon_failed=0
if ! "$build/bench_alerts" --seconds "${FG_BENCH_ALERT_SECONDS:-180}" \
     --addresses "${FG_BENCH_ALERT_ADDRESSES:-2000}" "$work" >> "$results"; then
  echo "bench: *** bench_alerts FAILED (see above) ***" >&2
  mon_failed=1
fi
if ! "$root/scripts/bench_fail2ban.sh" "$build" "${FG_BENCH_LOG_LINES:-200000}" "$work" \
     >> "$results"; then
  echo "bench: *** bench_fail2ban.sh FAILED (see above) ***" >&2
  mon_failed=1
fi
# ==== END monitoring ===========================================================================

# ==== BEGIN secured transfers vs pgbench TPC-B (issue #5; bench/bench_transfers.c, scripts/bench_pgbench.sh)
# finguard: 64 client threads, one keep-alive TLS connection each, signed POST /v1/transfers
# (session + RBAC + limits + idempotency + ledger + audit, synchronous=FULL) for tx_secs after a
# 3 s warm-up; then GET /v1/ledger/check must be ok. PostgreSQL: a throw-away cluster on
# loopback, `pgbench -i -s 64`, 3 s warm-up, `pgbench -c 64 -j 2 -T tx_secs -M prepared`
# (fsync=on, synchronous_commit=on). Same cores, one after the other.
# Goal: transfers/s >= 3 x pgbench TPS, transfer p99 <= 10 ms. tx_secs = $FG_BENCH_SECONDS,
# else $BENCH_SECONDS, else 20. A failed proof of the books or any transfer error fails make bench
# (after the table is printed).
tx_secs=${FG_BENCH_SECONDS:-${BENCH_SECONDS:-20}}
tx_failed=0
chmod 755 "$work" # the cluster runs as an unprivileged user when we are root
if ! "$build/bench_transfers" --seconds "$tx_secs" --clients "$conns" "$work" >> "$results"; then
  echo "bench: *** bench_transfers FAILED (errors or the ledger check; see above) ***" >&2
  tx_failed=1
fi
if ! "$root/scripts/bench_pgbench.sh" "$tx_secs" "$conns" "$work" >> "$results"; then
  echo "bench: *** the pgbench run failed (see above) ***" >&2
  tx_failed=1
fi
# ==== END secured transfers vs pgbench ==========================================================

# ==== BEGIN login throughput and login-flood memory (issue #4; bench/login.lua, bench_argon2) ====
# (a) Logins/s at 64 clients, all with the right password (only failures count toward the
#     per-source limits), each with its own device_id, against bare Argon2id verifications/s
#     (bench_argon2: one thread per core, the hashing pool's size, same parameters) measured
#     in the same run on the same cores, interleaved with the logins (below). Goal: ratio >= 0.9.
# (b) A 1000-client login flood on a fresh server: 200s and 429s (the bounded hashing pool
#     refusing what it cannot queue) per second, and the server's peak RSS — VmHWM over its
#     whole life (start, init, flood), cross-checked by VmRSS sampled every 0.2 s.
#     Goal: <= 64 MiB + cores x 19 MiB (Argon2id memory per hash in flight).
# The one-time admin password from init reaches wrk through the environment, never argv.
login_lim=$(ulimit -n)
if [ "$login_lim" != unlimited ] && [ "$login_lim" -lt 4096 ]; then
  ulimit -n 4096 || echo "bench: cannot raise ulimit -n to 4096 (is $login_lim); flood may see socket errors" >&2
fi
login_server() { # name → starts an initialised, unsealed finguard; sets fg_port, login_pid, login_pw
  start_finguard "$1" false
  login_pid=${pids[-1]}
  wait_http "http://127.0.0.1:$fg_port/v1/health"
  login_pw=$(curl -sf -X POST -H 'Content-Type: application/json' \
      -d '{"shares":1,"threshold":1}' "http://127.0.0.1:$fg_port/v1/sys/init" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["admin"]["password"])')
}
login_stop() { kill "$login_pid" 2>/dev/null || true; wait "$login_pid" 2>/dev/null || true; }
login_wrk() { # connections seconds → sets login_ok login_429 login_other login_err login_us
  local out line
  out=$(FG_BENCH_PASSWORD="$login_pw" timeout $(($2 + 30)) wrk -t2 -c"$1" -d"$2s" \
        --timeout 5s -s "$root/bench/login.lua" "http://127.0.0.1:$fg_port/v1/auth/login" 2>&1) ||
    { echo "bench: wrk login run failed: $out" >&2; return 1; }
  line=$(grep -E '^LOGIN ok=[0-9]+ limited=[0-9]+ other=[0-9]+ errors=[0-9]+ duration_us=[1-9][0-9]*$' <<<"$out") ||
    { echo "bench: login.lua printed no LOGIN line: $out" >&2; return 1; }
  read -r login_ok login_429 login_other login_err login_us < <(sed -E 's/[a-z_]+=//g; s/^LOGIN //' <<<"$line")
  if [ "$login_other" -gt 0 ] || [ "$login_err" -gt 0 ]; then
    echo "bench: login at $1 clients: $login_other answers neither 200 nor 429, $login_err socket errors" >&2
  fi
}
per_s() { awk -v n="$1" -v us="$2" 'BEGIN { printf "%.1f", n * 1e6 / us }'; }
argon2_per_s() { # seconds → verifications/s
  "$build/bench_argon2" --seconds "$1" "$work" | awk '$2 == "argon2id_verify_per_s" { print $3 }'
}
login_drain() { # pid → waits (<= 10 s) until the server's queued hashes are done: wrk hangs
  # up at its deadline, but the pool still finishes what it accepted, and that CPU must not
  # be counted against the Argon2 run that follows
  local prev now
  prev=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
  for _ in $(seq 1 50); do
    sleep 0.2
    now=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
    if [ $((now - prev)) -lt 2 ]; then return 0; fi
    prev=$now
  done
}
rss_sampler() { # pid stopfile outfile → writes the largest VmRSS seen (kB); bounded in time
  local max=0 v
  for _ in $(seq 1 $(((secs + 40) * 5))); do
    if [ -e "$2" ]; then break; fi
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
    if [ -n "$v" ] && [ "$v" -gt "$max" ]; then max=$v; fi
    sleep 0.2
  done
  echo "$max" > "$3"
}
# (a) Argon2, login, Argon2, login, Argon2: two login runs of secs/2 between three Argon2 runs
#     of secs/4 (at least 1 s each); each login run is compared with the mean of the Argon2
#     runs beside it, so Argon2's rate is (A1 + 2 A2 + A3) / 4. Others' load on a shared
#     machine then lands on both sides alike.
login_server fg_login
login_secs_l=$(((secs + 1) / 2)); login_secs_a=$(((secs + 3) / 4))
login_ok_sum=0; login_429_sum=0; login_us_sum=0; login_a=()
for login_round in 1 2 3; do
  login_drain "$login_pid"
  login_a+=("$(argon2_per_s "$login_secs_a")")
  if [ "$login_round" -eq 3 ]; then break; fi
  login_wrk 64 "$login_secs_l"
  login_ok_sum=$((login_ok_sum + login_ok)); login_429_sum=$((login_429_sum + login_429))
  login_us_sum=$((login_us_sum + login_us))
done
login_stop
login_argon2=$(awk -v a="${login_a[0]}" -v b="${login_a[1]}" -v c="${login_a[2]}" \
  'BEGIN { printf "%.1f", (a + 2 * b + c) / 4 }')
login_rate=$(per_s "$login_ok_sum" "$login_us_sum")
record login_ok_per_s "$login_rate" logins/s
record login_429_per_s "$(per_s "$login_429_sum" "$login_us_sum")" req/s
record login_argon2id_verify_per_s "$login_argon2" ops/s
record login_vs_argon2_ratio "$(awk -v l="$login_rate" -v a="$login_argon2" 'BEGIN { printf "%.3f", (a > 0 ? l / a : 0) }')" x
echo "== login: argon2id runs ${login_a[*]} ops/s; ${login_ok_sum} logins in ${login_us_sum} us" >&2
# (b)
login_server fg_flood
login_rss_before=$(awk '/^VmRSS:/ { print $2 }' "/proc/$login_pid/status")
rm -f "$work/rss.stop"
rss_sampler "$login_pid" "$work/rss.stop" "$work/rss.max" &
login_sampler=$!
pids+=("$login_sampler")
login_wrk 1000 "$secs"
touch "$work/rss.stop"
wait "$login_sampler" 2>/dev/null || true
login_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$login_pid/status")
login_stop
record login_flood_ok_per_s "$(per_s "$login_ok" "$login_us")" logins/s
record login_flood_429_per_s "$(per_s "$login_429" "$login_us")" req/s
record login_flood_rss_before_mib "$(awk -v k="$login_rss_before" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
record login_flood_peak_rss_mib "$(awk -v k="$login_hwm" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
record login_flood_max_sampled_rss_mib "$(awk -v k="$(cat "$work/rss.max")" 'BEGIN { printf "%.1f", k / 1024 }')" MiB
record login_flood_rss_goal_mib "$((64 + $(nproc) * 19))" MiB
echo "== login flood: ${login_ok} x 200, ${login_429} x 429, ${login_other} other, ${login_err} socket errors in ${login_us} us" >&2
# ==== END login throughput and login-flood memory ==============================================

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
ratio("transfers_per_s", "pgbench_tpcb_tps", "transfers_vs_pgbench_tpcb_ratio (goal >= 3)")
if "transfer_p99_ms" in rows:
    rows["transfer_p99_ms (goal <= 10)"] = rows["transfer_p99_ms"]; order.append("transfer_p99_ms (goal <= 10)")
# issue #6 (bench_monitor, bench_alerts, bench_fail2ban.sh): goal rows
for k, goal in (("monitor_engine_events_per_s", ">= 1000000"), ("risk_assess_transfer_p99_us", "<= 20"),
                ("risk_assess_login_p99_us", "<= 20"), ("alert_latency_p99_ms", "<= 5"),
                ("replay_vs_fail2ban_ratio", ">= 100"), ("replay_same_alerts", "1 = same alerts")):
    if k in rows:
        rows[f"{k} (goal {goal})"] = rows[k]; order.append(f"{k} (goal {goal})")
print("| benchmark | value | unit |")
print("|---|---:|---|")
for k in order:
    v, u = rows[k]
    print(f"| {k} | {v:,.2f} | {u} |" if v < 100 else f"| {k} | {v:,.0f} | {u} |")
if "replay_same_alerts" in rows:
    print("\nfail2ban-regex vs finguard events replay, brute-force sources: same alerts: %s" %
          ("yes" if rows["replay_same_alerts"][0] == 1 else "NO"))
PY

if [ "$mon_failed" -ne 0 ]; then
  echo "bench: *** a monitoring benchmark (bench_alerts / bench_fail2ban.sh) FAILED (see above) ***" >&2
  [ "$tx_failed" -ne 0 ] || exit 1
fi
if [ "$tx_failed" -ne 0 ]; then
  echo "bench: *** secured transfers vs pgbench FAILED (see above) ***" >&2
  exit 1
fi
