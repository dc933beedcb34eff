#!/usr/bin/env bash
# Schemathesis against the REST API: it reads /api/v1/openapi.json from a
# live demo server (SQLite, sandbox gateway), generates requests from it,
# valid and not, and fails on any server error or a response the document
# doesn't describe. Called by scripts/test.sh; runnable alone after a build.
# Prints `# pass 1` / `# fail 1` for the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
LOGS=target/test-logs; mkdir -p "$LOGS"
VENV="$TOOLCHAIN_CACHE/venv-api"
# Its own virtualenv: schemathesis's dependencies don't meet localstripe's.
if ! [ -x "$VENV/bin/schemathesis" ] || ! cmp -s end2end/api-requirements.txt "$VENV/.requirements"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r end2end/api-requirements.txt
  cp end2end/api-requirements.txt "$VENV/.requirements"
fi
[ -x target/debug/settle ] || cargo build -q -p settle
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DIR=$(mktemp -d); PORT=$(free_port); PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT
unset DATABASE_URL
export SETTLE_DATA_DIR="$DIR" SETTLE_LISTEN="127.0.0.1:$PORT" SETTLE_BASE_URL="http://127.0.0.1:$PORT" SETTLE_LOG=warn
# A thousand requests in seconds: past the default per-key limit, which
# would answer most of them 429 (the integration tests cover the limit).
export SETTLE_API_REQUESTS_PER_MINUTE=1000000
target/debug/settle demo > /dev/null
KEY=$(target/debug/settle api-key --merchant acme --name schemathesis)
target/debug/settle serve > "$LOGS/schemathesis-server.log" 2>&1 &
PID=$!
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$PORT/readyz" > /dev/null 2>&1 && break; sleep 0.1; done
status=0
"$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --header "Authorization: Bearer $KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" --workers 1 --seed 1 --request-timeout 10 \
  2>&1 | tee "$LOGS/schemathesis.log" || status=$?
if [ "$status" -eq 0 ]; then echo "# pass 1"; echo "# fail 0"; else echo "# pass 0"; echo "# fail 1"; fi
exit $status
