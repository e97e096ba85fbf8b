#!/usr/bin/env bash
# `make clients` (part of `make test`): generates the three clients of docs/openapi.yaml into
# git-ignored folders and runs a short program with each against `make run`:
#   Python      openapi-python-client (pinned in scripts/venv.sh)  -> clients/python/.build/
#   TypeScript  openapi-typescript + openapi-fetch (package.json) -> clients/typescript/.build/
#   Rust        progenitor in clients/rust/build.rs (Cargo.toml)   -> target/ (OUT_DIR)
# A generator warning fails the run. Each program checks that every operation of the contract is in
# its client, then creates, reads and updates (If-Match) customers, adds and updates an address,
# pages through the firehose and reads a 400 problem as its client's error type, each at a bank of
# its own. `make run` gets its own ports and data directory; it is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

export PORT=${CLIENTS_PORT:-3931} DDB_PORT=${CLIENTS_DDB_PORT:-8031}
CARGO=${CARGO:-cargo}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"
work=$(mktemp -d)
# Everything the generators write to the temp dir goes with $work.
export TMPDIR=$work
export DDB_DATA=$work/dynamodb-data LOCAL_DIR=$work/local TABLE_NAME=clients
run_pid=
passed=()

fail() {
  echo "clients: FAIL: $*" >&2
  [ -s "$work/run.log" ] && tail -20 "$work/run.log" >&2
  exit 1
}
cleanup() {
  [ -n "$run_pid" ] && kill -INT -- "-$run_pid" 2>/dev/null && wait "$run_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
# Runs a generator; its output is shown, and any warning in it fails the run.
generate() {
  local out
  out=$("$@" 2>&1) || fail "$1 failed: $out"
  printf '%s\n' "$out" >&2
  ! grep -qi 'warn' <<<"$out" || fail "$1 warned (above)"
}

scripts/venv.sh
scripts/npm-deps.sh

echo "clients: generating the Python, TypeScript and Rust clients ..." >&2
rm -rf clients/python/.build clients/typescript/.build
# The generator formats its output with ruff, which it finds on PATH.
PATH=$PWD/.venv/bin:$PATH generate .venv/bin/openapi-python-client generate --path docs/openapi.yaml \
  --config clients/python/config.yaml --meta none --output-path clients/python/.build/customer_api_client
generate node_modules/.bin/openapi-typescript docs/openapi.yaml -o clients/typescript/.build/schema.d.ts
# The program against the generated types: a type error is a failure too.
node_modules/.bin/tsc -p clients/typescript || fail "tsc: the TypeScript program does not type-check"
generate "$CARGO" build -q "${cargo_flags[@]}" -p customer-api-client --example tour
"$CARGO" build -q "${cargo_flags[@]}" -p local-api

echo "clients: starting make run on port $PORT ..." >&2
setsid scripts/run.sh >"$work/run.log" 2>&1 &
run_pid=$!
for _ in $(seq 1 240); do
  grep -q '^export TOKEN=' "$work/run.log" && curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  kill -0 "$run_pid" 2>/dev/null || fail "make run exited early"
  sleep 0.5
done
curl -s -o /dev/null "http://127.0.0.1:$PORT/" || fail "make run did not become ready"

# client NAME COMMAND...: runs COMMAND as staff of the bank clients-NAME (every scope).
client() {
  local name=$1 token
  shift
  token=$("$CARGO" run -q "${cargo_flags[@]}" -p local-api -- token --sub "clients-$name" --bank "clients-$name") ||
    fail "local-api token failed"
  CUSTOMER_API_URL=http://127.0.0.1:$PORT CUSTOMER_API_TOKEN=$token CUSTOMER_API_BANK=clients-$name "$@" ||
    fail "the $name client's program failed"
  passed+=("$name")
}
client python env PYTHONPATH=clients/python/.build .venv/bin/python clients/python/tour.py
client typescript node clients/typescript/.build/tour.mjs
client rust "$CARGO" run -q "${cargo_flags[@]}" -p customer-api-client --example tour
echo "clients: generated and passed against make run: ${passed[*]}"
