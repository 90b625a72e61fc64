#!/usr/bin/env bash
# tour-check.sh — runs the README's "A 5-minute tour" exactly as written, against a fresh
# server on a free loopback port, and fails on the first command that does not work.
#
# Usage: scripts/tour-check.sh BUILD_DIR [README]      (ctest runs it as e2e_tour)
#
# How the README is read (the section "## A 5-minute tour" up to the next "## "):
#   - every ```sh block runs, in order, in ONE bash shell (set -euo pipefail), so variables
#     and functions carry over between blocks as in a newcomer's terminal;
#   - `<!-- tour: skip -->` on the line before a block skips it (terminal 1's `make run`);
#   - `<!-- tour: restart -->` stops the server (SIGINT, as Ctrl-C) and starts it again,
#     `<!-- tour: stop -->` stops it;
#   - a line `scripts/fgcurl … # → 403 permission_denied` must get exactly that answer
#     (FGCURL_EXPECT); every other fgcurl request must get a 2xx.
# The commands run in a temporary directory where build/ is BUILD_DIR, scripts/ and etc/ are
# the repository's and var/ is a new data directory; https://127.0.0.1:8443 becomes the
# chosen port and the server is `finguard serve --config etc/finguard.ini --data-dir var`,
# as `make run` starts it. Needs curl, openssl, jq and sqlite3 (exit 77, "skipped", without
# them); no network beyond loopback.
# FG_TOUR_KEEP=1 keeps the directory (its path is printed).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD_DIR [README]" >&2
    exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
readme=${2:-$src/README.md}
[ -x "$build/finguard" ] || { echo "tour-check: no $build/finguard" >&2; exit 2; }
for tool in curl openssl jq sqlite3; do # 77: ctest's SKIP_RETURN_CODE
    command -v "$tool" >/dev/null || { echo "tour-check: skipped: needs $tool (scripts/install-deps.sh)" >&2; exit 77; }
done

# fgcurl's TOTP against RFC 6238 appendix B (SHA-1; the 8-digit values' last 6 digits)
rfc_secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ # "12345678901234567890"
for tv in 59:287082 1111111109:081804 1234567890:005924 20000000000:353130; do
    got=$(FGCURL_NOW=${tv%%:*} "$src/scripts/fgcurl" totp "$rfc_secret")
    if [ "$got" != "${tv#*:}" ]; then
        echo "tour-check: fgcurl totp at ${tv%%:*} gave $got, RFC 6238 says ${tv#*:}" >&2
        exit 1
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/fg-tour.XXXXXX")
ln -s "$build" "$work/build"
ln -s "$src/scripts" "$work/scripts"
ln -s "$src/etc" "$work/etc"
mkdir -m 700 "$work/var"

cleanup() {
    local rc=$?
    set +x
    if [ -s "$work/server.pid" ]; then
        kill -TERM "$(cat "$work/server.pid")" 2>/dev/null || true
        wait "$(cat "$work/server.pid")" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ] && [ -s "$work/server.log" ]; then
        echo "---- server log (last 30 lines) ----" >&2
        tail -n 30 "$work/server.log" >&2
    fi
    if [ "${FG_TOUR_KEEP:-0}" = 1 ]; then
        echo "tour-check: kept $work" >&2
    else
        rm -rf "$work"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=""
pick_port() {
    local p
    for _ in $(seq 1 50); do
        p=$((20000 + RANDOM % 40000))
        if port_free "$p"; then port=$p; return 0; fi
    done
    echo "tour-check: no free loopback port" >&2
    return 1
}

# start the server on $port (a fresh port when that one turns out to be taken); wait for health
server_start() {
    local tries pid max=${1:-1}
    for tries in $(seq 1 "$max"); do
        (cd "$work" && exec build/finguard serve --config etc/finguard.ini --data-dir var \
            --set server.address=127.0.0.1 --set "server.port=$port") >> "$work/server.log" 2>&1 &
        pid=$!
        echo "$pid" > "$work/server.pid"
        for _ in $(seq 1 100); do
            if ! kill -0 "$pid" 2>/dev/null; then break; fi
            if [ -s "$work/var/tls/cert.pem" ] &&
                curl -sf --cacert "$work/var/tls/cert.pem" "https://127.0.0.1:$port/v1/health" \
                    >/dev/null 2>&1; then
                return 0
            fi
            sleep 0.1
        done
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        : > "$work/server.pid"
        if [ "$tries" -lt "$max" ]; then pick_port; fi
    done
    echo "tour-check: the server did not come up" >&2
    return 1
}

server_stop() {
    local pid
    pid=$(cat "$work/server.pid")
    kill -INT "$pid"
    wait "$pid" || { echo "tour-check: the server exited with $? on Ctrl-C" >&2; return 1; }
    : > "$work/server.pid"
}

# ---- the README's tour as a script --------------------------------------------------------
awk -v port="$port" '
    /^## A 5-minute tour/ { on = 1; next }
    on && /^## / { exit }
    !on { next }
    /^ *<!-- tour: skip -->/ { skip = 1; next }
    /^ *<!-- tour: restart -->/ { print "tour_restart"; next }
    /^ *<!-- tour: stop -->/ { print "tour_stop"; next }
    /^ *```sh *$/ { inblock = 1; printf "tour_at %d\n", NR; next }
    inblock && /^ *```/ { inblock = 0; skip = 0; next }
    inblock && !skip { print }
    inblock && skip { next }
' "$readme" > "$work/tour.raw"
[ -s "$work/tour.raw" ] || { echo "tour-check: no tour found in $readme" >&2; exit 1; }

# expected answers: `scripts/fgcurl … # → NNN [code]` → FGCURL_EXPECT='NNN [code]' scripts/fgcurl …
arrow=$'\xe2\x86\x92'
while IFS= read -r line; do
    if [[ $line == *"# $arrow "* ]]; then
        want=${line##*"# $arrow "}
        if [[ $line =~ ^([[:space:]]*)scripts/fgcurl[[:space:]] ]] &&
            [[ $want =~ ^([0-9]{3})([[:space:]]+([a-z_]+))? ]]; then
            expect="${BASH_REMATCH[1]}${BASH_REMATCH[3]:+ ${BASH_REMATCH[3]}}"
            lead=${line%%scripts/fgcurl*}
            line="${lead}FGCURL_EXPECT='$expect' ${line#"$lead"}"
        else
            echo "tour-check: cannot check this expectation (a line must start with" \
                "scripts/fgcurl): $line" >&2
            exit 1
        fi
    fi
    printf '%s\n' "$line"
done < "$work/tour.raw" > "$work/tour.sh"
sed -i "s#https://127\.0\.0\.1:8443#https://127.0.0.1:PORT_PLACEHOLDER#g" "$work/tour.sh"

pick_port
server_start 3
sed -i "s#PORT_PLACEHOLDER#$port#g" "$work/tour.sh"
export FG_URL="https://127.0.0.1:$port"
unset FG_DATA FG_CA FG_OUTBOX FG_SESSIONS FGCURL_EXPECT

tour_at() { echo "---- README.md line $1" >&2; }
tour_restart() {
    echo "---- (Ctrl-C and make run again)" >&2
    server_stop
    server_start
}
tour_stop() {
    echo "---- (Ctrl-C)" >&2
    server_stop
}

# in this shell (not a subshell), so that the servers it restarts stay children of it
tc_start=$(date +%s)
cd "$work"
PS4='+ '
set -x
# shellcheck disable=SC1091
source ./tour.sh
set +x
echo "tour-check: the tour ran in $(($(date +%s) - tc_start)) s on port $port" >&2
