#!/usr/bin/env bash
# `make run` end to end, as a user runs it: start it, create a customer with the printed token,
# stop it with Ctrl-C (SIGINT to its process group), check DynamoDB Local stopped too, start it
# again and read the customer back with the same token; then `make run-lambda` on the same data:
# the same customer through the built functions, a link created there, and the deploy's smoke test
# (scripts/smoke-deployed.sh) with local-api's token endpoint. Uses its own ports and data directory.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
export PORT=${SMOKE_PORT:-3917} DDB_PORT=${SMOKE_DDB_PORT:-8017}
export DDB_DATA=$work/dynamodb-data LOCAL_DIR=$work/local TABLE_NAME=smoke-run
base=http://127.0.0.1:$PORT
pid=

fail() {
  echo "smoke-run: FAIL: $*" >&2
  [ -f "$work/run.log" ] && tail -20 "$work/run.log" >&2
  exit 1
}

start() {
  : >"$work/run.log"
  setsid scripts/run.sh "$@" >"$work/run.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    grep -q '^export TOKEN=' "$work/run.log" && curl -s -o /dev/null "$base/" && return 0
    kill -0 "$pid" 2>/dev/null || fail "make run exited early"
    sleep 0.5
  done
  fail "make run $* did not become ready"
}

stop() {
  kill -INT -- "-$pid"
  wait "$pid" || true
  pid=
  scripts/dynamodb-local.sh status "$DDB_PORT" 2>/dev/null && fail "DynamoDB Local still runs after Ctrl-C"
  return 0
}

cleanup() {
  [ -n "$pid" ] && kill -INT -- "-$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

start
token=$(sed -n 's/^export TOKEN=//p' "$work/run.log" | head -1)
created=$(curl -s -X POST "$base/v1/customers" -H "Authorization: Bearer $token" \
  -d '{"bank_id":"demo-bank","legal_name":"Persistent Person"}')
id=$(printf '%s' "$created" | sed -n 's/.*"customer_id":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || fail "create answered: $created"
stop

start
got=$(curl -s -w ' %{http_code}' "$base/v1/banks/demo-bank/customers/$id" -H "Authorization: Bearer $token")
case "$got" in
  *'"legal_name":"Persistent Person"'*' 200') ;;
  *) fail "after a restart the customer reads as: $got" ;;
esac
stop

start --lambda
grep -q 'through the local Lambda service' "$work/run.log" || fail "make run-lambda does not say it runs the built functions"
got=$(curl -s -w ' %{http_code}' "$base/v1/banks/demo-bank/customers/$id" -H "Authorization: Bearer $token")
case "$got" in
  *'"legal_name":"Persistent Person"'*' 200') ;;
  *) fail "through the built functions the customer reads as: $got" ;;
esac
got=$(curl -s -w ' %{http_code}' -X POST "$base/v1/banks/demo-bank/user_customer_links" -H "Authorization: Bearer $token" \
  -H 'Idempotency-Key: smoke-link' -d "{\"user_id\":\"smoke-user\",\"customer_id\":\"$id\"}")
again=$(curl -s -w ' %{http_code}' -X POST "$base/v1/banks/demo-bank/user_customer_links" -H "Authorization: Bearer $token" \
  -H 'Idempotency-Key: smoke-link' -d "{\"user_id\":\"smoke-user\",\"customer_id\":\"$id\"}")
[[ $got == *' 201' && $again == "$got" ]] || fail "a link and its replay through the built functions: $got / $again"
# The deploy's smoke test, with local-api's token endpoint as the identity provider.
API_URL=$base TOKEN_URL=$base/local/oauth2/token SMOKE_CLIENT_ID=smoke-client SMOKE_CLIENT_SECRET=local-client-secret \
  scripts/smoke-deployed.sh || fail "the deploy's smoke test failed against make run-lambda"
API_URL=$base TOKEN_URL=$base/local/oauth2/token SMOKE_CLIENT_ID=smoke-client SMOKE_CLIENT_SECRET=wrong \
  scripts/smoke-deployed.sh 2>/dev/null && fail "the deploy's smoke test passed with a wrong client secret"
stop
echo "smoke-run: make run keeps data and its token across a restart, stops DynamoDB Local on Ctrl-C, and make run-lambda serves the same data through the built functions and passes the deploy's smoke test"
