#!/usr/bin/env bash
# Load and soak figures (printed, not asserted): release builds, wrk as the
# client, everything on this machine.
#
#  1. The signed-in account page of a customer with 50 open invoices under
#     32 concurrent connections: requests/s and p50/p99 latency, next to a
#     bare axum handler doing the same work (server/examples/bare_account.rs:
#     the same reads and figures, the page written by hand, no Leptos and no
#     middleware) and the ratio (targets: ratio >= 0.4, p99 <= 20 ms); and,
#     for scale, axum serving the same bytes from memory (bare_axum.rs).
#     On SQLite and on PostgreSQL.
#  2. A soak: the same load for SOAK_MINUTES (default 10) on SQLite: errors
#     (target 0) and the server's memory, first minute against the last
#     (target: growth under 10%).
#  3. 1,000 signed-in sessions used at once (1,000 connections): the
#     server's memory before and after, and the errors.
#
#   scripts/load.sh                      # everything (about 15 minutes)
#   SOAK_MINUTES=1 scripts/load.sh       # a shorter soak
#   LOAD_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres (the default)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/env.sh
SOAK_MINUTES=${SOAK_MINUTES:-10}
PG_ADMIN=${LOAD_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DURATION=${LOAD_SECONDS:-20}
command -v wrk > /dev/null || {
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk > /dev/null
}
echo "building release binaries (settle, bare_account, bare_axum)…" >&2
cargo build -q --release -p settle --bin settle --example bare_account --example bare_axum
BIN=target/release/settle
BARE=target/release/examples/bare_account
STATIC=target/release/examples/bare_axum

WORK=$(mktemp -d)
PIDS=()
cleanup() { kill "${PIDS[@]}" 2> /dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 1 300); do curl -fs "$1/readyz" > /dev/null 2>&1 && return 0; sleep 0.1; done; echo "no server at $1" >&2; return 1; }
wait_port() { for _ in $(seq 1 300); do (: > "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# wrk's numbers: requests/s, p50 and p99 in ms, and failed responses.
ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}'; }
rps() { sed -n 's/^Requests\/sec: *//p' "$1"; }
pct() { grep -E "^ +$2%" "$1" | awk '{print $2}' | ms; }
failures() {
  local non2xx sock
  non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *//p' "$1"); sock=$(sed -n 's/.*Socket errors: *//p' "$1")
  echo "non-2xx: ${non2xx:-0}; socket errors: ${sock:-none}"
}

# 50 open invoices for one customer, as a CSV import.
CSV="$WORK/load.csv"
scripts/open-invoices-csv.sh 50 > "$CSV"

# Starts a demo server on $1 (database URL); sets URL and SERVER_PID.
start_settle() {
  local db=$1 port; port=$(free_port)
  URL="http://127.0.0.1:$port"
  export SETTLE_DATABASE_URL="$db" SETTLE_DATA_DIR="$WORK/data" SETTLE_LISTEN="127.0.0.1:$port" SETTLE_BASE_URL="$URL"
  export SETTLE_LOG=error SETTLE_DUNNING=off SETTLE_SITE_ROOT="$WORK/site" SETTLE_TRUSTED_PROXIES=127.0.0.1
  # The default pool size (2 per core, at least 4), as bare_account uses.
  unset SETTLE_DB_MAX_CONNECTIONS
  $BIN demo > /dev/null
  $BIN import --merchant acme "$CSV" > /dev/null 2>&1
  $BIN serve > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_ready "$URL"
}

# Signs in through an access link as client address $2; prints the cookie.
sign_in() {
  local email=$1 ip=$2 link
  link=$($BIN link --merchant acme --email "$email")
  curl -fs -o /dev/null -D - -X POST -H "X-Forwarded-For: $ip" "$link" \
    | sed -n 's/^[Ss]et-[Cc]ookie: \(settle_session=[^;]*\).*/\1/p' | tail -n1
}

# Runs wrk against $1 (URL) with the cookie $2 after a warm-up; output in $3.
measure() {
  wrk -t2 -c32 -d5s -H "Cookie: $2" "$1" > /dev/null
  wrk -t2 -c32 -d"${DURATION}s" --latency -H "Cookie: $2" "$1" > "$3"
}

# Prints one measured line: label, wrk output file.
line() { printf '   %-13s %9.0f req/s  p50 %6s ms  p99 %6s ms  (%s)\n' "$1" "$(rps "$2")" "$(pct "$2" 50)" "$(pct "$2" 99)" "$(failures "$2")"; }

compare() {
  local backend=$1 db=$2
  local cookie; cookie=$(sign_in load@example.com 203.0.113.1)
  [ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }
  curl -fs -H "Cookie: $cookie" "$URL/p/acme/account" > "$WORK/page.html"
  local invoices; invoices=$(grep -o 'LOAD-[0-9]*' "$WORK/page.html" | sort -u | wc -l)
  measure "$URL/p/acme/account" "$cookie" "$WORK/settle.txt"

  # The same page by hand, on the same database and session.
  local bport; bport=$(free_port)
  $BARE "$db" acme "$WORK/page.html" "127.0.0.1:$bport" & local bpid=$!
  PIDS+=("$bpid")
  wait_port "$bport"
  curl -fs -H "Cookie: $cookie" "http://127.0.0.1:$bport/p/acme/account" > "$WORK/bare.html"
  local bare_invoices; bare_invoices=$(grep -o 'LOAD-[0-9]*' "$WORK/bare.html" | sort -u | wc -l)
  [ "$bare_invoices" = "$invoices" ] || { echo "bare_account shows $bare_invoices invoices, Settle $invoices" >&2; exit 1; }
  measure "http://127.0.0.1:$bport/p/acme/account" "$cookie" "$WORK/bare.txt"
  kill "$bpid"

  # Settle's bytes from memory: what axum alone can do on this machine.
  local sport; sport=$(free_port)
  $STATIC "$WORK/page.html" "127.0.0.1:$sport" & local spid=$!
  PIDS+=("$spid")
  wait_port "$sport"
  measure "http://127.0.0.1:$sport/" "" "$WORK/static.txt"
  kill "$spid"

  local s b ratio; s=$(rps "$WORK/settle.txt"); b=$(rps "$WORK/bare.txt")
  ratio=$(awk -v s="$s" -v b="$b" 'BEGIN {printf "%.2f", s/b}')
  echo "== $backend: account page, 50 open invoices, 32 connections, ${DURATION}s"
  echo "   Settle $(wc -c < "$WORK/page.html") bytes ($invoices invoices); by hand $(wc -c < "$WORK/bare.html") bytes ($bare_invoices invoices)"
  line "settle" "$WORK/settle.txt"
  line "by hand" "$WORK/bare.txt"
  line "from memory" "$WORK/static.txt"
  echo "   ratio $ratio (Settle against by hand; target >= 0.4); p99 target <= 20 ms"
  echo "# figure load $backend: $s req/s, p50 $(pct "$WORK/settle.txt" 50) ms, p99 $(pct "$WORK/settle.txt" 99) ms; by hand $b req/s, p99 $(pct "$WORK/bare.txt" 99) ms; ratio $ratio; from memory $(rps "$WORK/static.txt") req/s"
}

# 1. PostgreSQL, then SQLite (which the soak and the sessions then use).
PG_DB="settle_load_$$"
psql "$PG_ADMIN" -qc "CREATE DATABASE $PG_DB" > /dev/null
PG_URL=$(echo "$PG_ADMIN" | sed "s#/[^/]*\$#/$PG_DB#")
start_settle "$PG_URL"
compare PostgreSQL "$PG_URL"
kill "$SERVER_PID"; wait "$SERVER_PID" 2> /dev/null || true
psql "$PG_ADMIN" -qc "DROP DATABASE $PG_DB WITH (FORCE)" > /dev/null || true
start_settle "sqlite://$WORK/data/settle.db?mode=rwc"
compare SQLite "sqlite://$WORK/data/settle.db?mode=rwc"

# 2. Soak on SQLite: one-minute rounds, memory after each.
cookie=$(sign_in load@example.com 203.0.113.2)
echo "== soak: ${SOAK_MINUTES} minutes, 32 connections, SQLite"
rss=()
errors=0
for m in $(seq 1 "$SOAK_MINUTES"); do
  wrk -t2 -c32 -d60s -H "Cookie: $cookie" "$URL/p/acme/account" > "$WORK/soak.txt"
  n=$(sed -n 's/.*Non-2xx or 3xx responses: *//p' "$WORK/soak.txt"); n=${n:-0}
  grep -q "Socket errors" "$WORK/soak.txt" && n=$((n + 1))
  errors=$((errors + n))
  rss+=("$(rss_kb "$SERVER_PID")")
  printf '   minute %2d: %6.0f req/s, RSS %d KB, failed %d\n' "$m" "$(rps "$WORK/soak.txt")" "${rss[-1]}" "$n"
done
growth=$(awk -v a="${rss[0]}" -v b="${rss[-1]}" 'BEGIN {printf "%.1f", (b - a) * 100 / a}')
echo "# figure soak ${SOAK_MINUTES} min: $errors errors, RSS ${rss[0]} KB after the first minute, ${rss[-1]} KB at the end ($growth%; target < 10%)"

# 3. A thousand sessions at once (each from its own client address).
echo "== 1,000 concurrent sessions, SQLite"
before=$(rss_kb "$SERVER_PID")
: > "$WORK/cookies"
for i in $(seq 0 999); do
  sign_in load@example.com "198.18.$((i / 250)).$((i % 250 + 1))" >> "$WORK/cookies"
done
sessions=$(sort -u "$WORK/cookies" | grep -c settle_session || true)
cat > "$WORK/sessions.lua" <<'LUA'
local cookies = {}
for line in io.lines(os.getenv("COOKIES")) do cookies[#cookies + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/p/acme/account", { ["Cookie"] = cookies[(n % #cookies) + 1] })
end
LUA
ulimit -n 4096 2> /dev/null || true
COOKIES="$WORK/cookies" wrk -t2 -c1000 -d"${DURATION}s" --latency -s "$WORK/sessions.lua" "$URL" > "$WORK/sessions.txt"
after=$(rss_kb "$SERVER_PID")
echo "   $sessions sessions; $(rps "$WORK/sessions.txt") req/s over 1,000 connections, p99 $(pct "$WORK/sessions.txt" 99) ms ($(failures "$WORK/sessions.txt"))"
echo "# figure 1000 sessions: RSS $before KB before, $after KB with 1,000 sessions in use ($((after - before)) KB more); $(failures "$WORK/sessions.txt")"
