#!/usr/bin/env bash
# Installs the Debian 12 packages finguard needs to build, test and benchmark.
# Idempotent: when every package is already installed it does nothing (no apt-get update).
# Usage: scripts/install-deps.sh [--bench]   (--bench adds nginx, wrk, PostgreSQL for `make bench`)
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config git ca-certificates
  libh2o-evloop-dev      # HTTP/1.1, HTTP/2 server library (evloop flavour, no libuv)
  libssl-dev             # OpenSSL 3 libcrypto/libssl: TLS, AES-GCM, SM2/SM3/SM4, HMAC, HKDF, Ed25519
  libsodium-dev          # Argon2id, secure memory, constant-time compare
  libsqlite3-dev sqlite3 # embedded store
  libjansson-dev         # JSON
  libinih-dev            # INI configuration
  libgfshare-dev         # Shamir secret sharing for unseal
  liboath-dev            # TOTP / HOTP
  libpwquality-dev cracklib-runtime # password quality + its dictionary
  libyaml-dev            # rules, roles, catalog data files
  libpcre2-dev           # regex in rules
  libcurl4-openssl-dev   # client library
  libcmocka-dev          # unit tests
  openssl curl procps
  jq                     # JSON on the command line: the README's tour, scripts/tour-check.sh
)
bench_pkgs=(
  nginx-light wrk                  # HTTP peer and load generator
  postgresql postgresql-contrib    # initdb/pg_ctl/pgbench: the TPC-B peer of secured transfers (issue #5)
  fail2ban                         # fail2ban-regex + its stock sshd filter: the log-replay peer (issue #6)
)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--bench" ]; then want+=("${bench_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
