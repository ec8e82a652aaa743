#!/usr/bin/env bash
# What authentication costs: the first request of a credential (argon2id verify) versus later
# requests of the same credential (verified-credential cache), plus the /healthz ceiling.
# Release build, temporary database, loopback only, bounded duration. Needs wrk
# (Debian package `wrk`; installed here if missing and apt is available).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
cargo build --release --bin localtwilio >/dev/null

tmp=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
port=$((20000 + RANDOM % 20000))
sid=AC$(printf 'b%.0s' {1..32}); token=$(printf 'c%.0s' {1..32})
LOCALTWILIO_LISTEN=127.0.0.1:$port LOCALTWILIO_DATABASE=$tmp/db.sqlite LOCALTWILIO_LOG=warn \
  LOCALTWILIO_ACCOUNT_SID=$sid LOCALTWILIO_AUTH_TOKEN=$token target/release/localtwilio >/dev/null &
pid=$!
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.1; done
base=http://127.0.0.1:$port
url="$base/2010-04-01/Accounts/$sid.json"

# First request of 20 distinct subaccount credentials, one at a time (each pays argon2).
first=()
for i in $(seq 20); do
  body=$(curl -s -u "$sid:$token" -X POST "$base/2010-04-01/Accounts.json" -d "FriendlyName=bench$i")
  s=$(echo "$body" | sed -E 's/.*"sid":"(AC[0-9a-f]{32})".*/\1/')
  t=$(echo "$body" | sed -E 's/.*"auth_token":"([0-9a-f]{32})".*/\1/')
  first+=("$(curl -s -o /dev/null -w '%{time_total}' -u "$s:$t" "$base/2010-04-01/Accounts/$s.json")")
  cached=$(curl -s -o /dev/null -w '%{time_total}' -u "$s:$t" "$base/2010-04-01/Accounts/$s.json")
  first_cached+=("$cached")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]*1000 " ms"}'; }
echo "first request of a credential (argon2 verify), median of 20: $(median "${first[@]}")"
echo "second request of the same credential (cached),   median of 20: $(median "${first_cached[@]}")"

auth=$(printf '%s' "$sid:$token" | base64 -w0)
echo "--- ceiling: GET /healthz (no auth), wrk -t2 -c64 -d5s"
wrk -t2 -c64 -d5s "$base/healthz" | grep -E 'Requests/sec|Latency'
echo "--- cached-credential fetch: GET $sid.json, wrk -t2 -c64 -d5s"
wrk -t2 -c64 -d5s -H "Authorization: Basic $auth" "$url" | grep -E 'Requests/sec|Latency'
