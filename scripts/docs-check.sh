#!/usr/bin/env bash
# The API docs page in a real browser (part of `make test`; alone: `make docs-check`): starts
# DynamoDB Local in memory and `local-api serve` on their own ports, opens /docs in headless Chromium
# (Debian's chromium, installed here when missing and running as root), checks that every operation
# of docs/openapi.yaml is listed with no console error and no request leaving the server, saves a
# screenshot to .local/docs-screenshot.png, then uses "Try it out" with a dev token (a 200 from local-api).
# Everything it started is stopped on exit; the last line says how it went.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

PORT=${DOCS_CHECK_PORT:-3794}
DDB_PORT=${DOCS_CHECK_DDB_PORT:-8794}
SPEC=docs/openapi.yaml
# Written where git does not look: docs/screenshot.png is the committed copy the README shows.
SCREENSHOT=${DOCS_SCREENSHOT:-.local/docs-screenshot.png}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CARGO=${CARGO:-cargo}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

fail() {
  echo "docs-check: FAIL: $*" >&2
  [ -n "${work:-}" ] && [ -s "$work/api.log" ] && tail -20 "$work/api.log" >&2
  exit 1
}

[ -f "$SPEC" ] || fail "$SPEC does not exist"
if [ ! -x "$CHROMIUM" ]; then
  [ "$(id -u)" = 0 ] || fail "$CHROMIUM not found: install Debian's chromium (sudo apt-get install chromium)"
  echo "docs-check: installing Debian's chromium ..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
scripts/npm-deps.sh

work=$(mktemp -d)
at_exit 'rm -rf "$work"'
api_pid=
stop_api() {
  if [ -n "$api_pid" ]; then
    kill -INT -- "-$api_pid" 2>/dev/null || true
    wait "$api_pid" 2>/dev/null || true
  fi
}

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  fail "port $PORT is already in use (DOCS_CHECK_PORT picks another)"
fi
ddb_use "$DDB_PORT" memory
ddb_table docs-check

# Its own process group, so that the exit handler stops local-api even while cargo still builds it.
TABLE_NAME=docs-check LOCAL_DIR=$work/local PORT=$PORT \
  setsid "$CARGO" run "${cargo_flags[@]}" -q -p local-api -- serve >"$work/api.log" 2>&1 &
api_pid=$!
at_exit stop_api
base=http://127.0.0.1:$PORT
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "$base/docs" && break
  kill -0 "$api_pid" 2>/dev/null || fail "local-api exited before serving /docs"
  sleep 0.5
done
curl -sf -o /dev/null "$base/docs" || fail "local-api did not serve /docs within 300 s"

# The spec as served is the file on disk, with its content type.
served=$(curl -s -o "$work/served.yaml" -w '%{http_code} %{content_type}' "$base/openapi.yaml")
[ "$served" = "200 application/yaml" ] || fail "GET /openapi.yaml answered: $served"
cmp -s "$work/served.yaml" "$SPEC" || fail "GET /openapi.yaml differs from $SPEC"

# A token from the server's dev key, for the page's "Try it out".
DOCS_CHECK_TOKEN=$(LOCAL_DIR=$work/local "$CARGO" run "${cargo_flags[@]}" -q -p local-api -- token --sub docs-check) ||
  fail "could not mint a token"
export DOCS_CHECK_TOKEN
mkdir -p "$(dirname "$SCREENSHOT")"
node scripts/docs-check.mjs "$base" "$SPEC" "$SCREENSHOT"
