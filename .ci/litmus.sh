#!/usr/bin/env bash
# WebDAV conformance: run litmus (basic, copymove, props, locks) against a fresh OfficeBox.
#
#   .ci/litmus.sh BIN [SUITES...]      BIN = path to the officebox binary
#
# Starts BIN on a free loopback port with a new data directory, completes the setup wizard,
# signs in, creates an app password, then runs litmus on /dav/我的空间/. Exits non-zero when
# a suite fails (litmus itself exits non-zero then). Results: docs/webdav.md.
set -euo pipefail

BIN=${1:?usage: .ci/litmus.sh BIN [SUITES...]}
shift
SUITES=${*:-basic copymove props locks}
command -v litmus >/dev/null || { echo "litmus not installed (apt-get install litmus)" >&2; exit 1; }

DATA=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
JAR="$DATA/cookies"
PID=

cleanup() {
    if [[ -n $PID ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf -- "$DATA"
}
trap cleanup EXIT

"$BIN" serve --data-dir "$DATA/data" --listen "127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "$BASE/healthz" >/dev/null || { cat "$DATA/server.log"; echo "server did not start" >&2; exit 1; }

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

curl -fsS -X POST "$BASE/api/v1/setup" -H 'Content-Type: application/json' -H 'X-CSRF-Token: x' \
    -d '{"enterprise_name":"示例科技","time_zone":"Asia/Shanghai","admin":{"userid":"admin","name":"管理员","password":"Litmus-pass-1","email":"admin@example.cn"}}' \
    -c "$JAR" >/dev/null
CSRF=$(curl -fsS "$BASE/api/v1/auth/me" -b "$JAR" | json '["csrf_token"]')
APP_PW=$(curl -fsS -X POST "$BASE/api/v1/me/app-passwords" -b "$JAR" -H "X-CSRF-Token: $CSRF" \
    -H 'Content-Type: application/json' -d '{"name":"litmus"}' | json '["password"]')

URL="$BASE/dav/$(python3 -c 'import urllib.parse; print(urllib.parse.quote("我的空间"))')/"
echo "litmus $URL (suites: $SUITES)"
rc=0
# litmus writes debug.log into the current directory: keep it out of the work tree.
(cd "$DATA" && TESTS="$SUITES" litmus "$URL" admin "$APP_PW") || rc=$?
if ((rc != 0)); then
    echo "---- last server log lines ----"
    tail -n 40 "$DATA/server.log"
    echo "---- last litmus debug.log lines ----"
    tail -n 60 "$DATA/debug.log" 2>/dev/null || true
fi
exit "$rc"
