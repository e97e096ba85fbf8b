#!/usr/bin/env bash
# `make test` (minus the template lint): the contract check, fmt, clippy, then the whole workspace's
# tests against ONE in-memory DynamoDB Local, which is stopped afterwards even when something fails,
# and the firehose, CRM event and scale tests again with 1 and with 64 shards (SHARDS).
# Then what ships, against the same DynamoDB Local restarted empty: `make build` (when missing or
# stale), and the black-box API suites, the burst through a frozen DynamoDB, the events
# and the contract again through the built bootstraps behind the local gateway
# (API_TESTS_MODE=lambda), and `make invoke` of every function; then the template's default arm64:
# built, and every event run through its bootstraps (under qemu here); then `make run` end to end,
# schemathesis twice, the three generated clients against `make run`, and the docs page. Every
# DynamoDB call of every run goes through the local IAM check; its report (used, denied,
# granted-but-unused actions per function) ends the run.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_DDB_PORT=${TEST_DDB_PORT:-8765}
CARGO=${CARGO:-cargo}
DDB=scripts/dynamodb-local.sh
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

# Every rule of docs/contract.md is named by a test: grep only, so before anything is built.
scripts/contract-check.sh
"$CARGO" fmt --all -- --check
"$CARGO" clippy "${cargo_flags[@]}" --workspace --all-targets -- -D warnings

"$DDB" install
own_ddb=
if "$DDB" status "$TEST_DDB_PORT"; then
  echo "test: reusing DynamoDB Local already running on port $TEST_DDB_PORT" >&2
else
  own_ddb=1
  trap '"$DDB" stop "$TEST_DDB_PORT"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  "$DDB" start "$TEST_DDB_PORT" memory
fi

export DYNAMODB_ENDPOINT=http://127.0.0.1:$TEST_DDB_PORT
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
# Tests create their own uniquely named tables; a TABLE_NAME from the caller's shell must not leak in.
unset TABLE_NAME

# Every decision of the local IAM check, for the report at the end.
LOCAL_IAM_USAGE_LOG=$(mktemp)
export LOCAL_IAM_USAGE_LOG

# One closing line with the totals of every test binary, so the run's result reads at a glance.
log=$(mktemp)
status=0
step() { echo "test: $* ($((SECONDS / 60)) min)" >&2; }
step "cargo test, in-process"
"$CARGO" test "${cargo_flags[@]}" --workspace 2>&1 | tee "$log" || status=$?
# The run's own DynamoDB Local, restarted empty before each later stage: after the in-process
# suites it runs a saturated core, and stages after them got 503s (a fresh-clone run's lambda-mode
# API suite took 257 s with 503s in its races, 49 s and none against a fresh instance; another
# run's SHARDS=64 tests got 503s). Never an instance this run did not start.
fresh_ddb() {
  if [[ -n $own_ddb ]]; then
    "$DDB" stop "$TEST_DDB_PORT"
    "$DDB" start "$TEST_DDB_PORT" memory
  fi
}
# The bank-wide lists merge shards: their tests again with one shard and with 64 (16 above).
for shards in 1 64; do
  fresh_ddb
  step "the firehose, CRM event and scale tests with SHARDS=$shards"
  SHARDS=$shards "$CARGO" test "${cargo_flags[@]}" -p api-tests --test api -- firehose crm_events scale:: 2>&1 |
    tee -a "$log" || status=$?
done
# What ships: the release bootstraps of `make build`, behind the same gateway.
smoke_passed=0 smoke_failed=0
check() {
  if "$@"; then smoke_passed=$((smoke_passed + 1)); else smoke_failed=$((smoke_failed + 1)) status=1; fi
}
step "make build (if stale)"
if scripts/ensure-build.sh; then
  fresh_ddb
  step "cargo test through the built functions"
  # lambda_service starts its own functions whatever the mode: once is enough.
  # Its own temporary directory, so the functions' logs count this run's invocations only.
  lambda_tmp=$(mktemp -d)
  TMPDIR=$lambda_tmp API_TESTS_MODE=lambda "$CARGO" test "${cargo_flags[@]}" -p api-tests --test api --test events \
    -- --skip lambda_service:: 2>&1 | tee -a "$log" || status=$?
  # The 503 bound under an outage, cold starts included, through the built functions.
  TMPDIR=$lambda_tmp API_TESTS_MODE=lambda "$CARGO" test "${cargo_flags[@]}" -p api-tests --test faults -- --exact \
    a_burst_of_keyed_creates_through_a_frozen_dynamodb_is_answered_within_the_bound 2>&1 | tee -a "$log" || status=$?
  # One access line per request a built function answered (the authorizer's TOKEN events aside).
  requests=$(cat "$lambda_tmp"/*/*.log 2>/dev/null | grep -c '"message":"request"' || true)
  echo "test: ${requests:-0} requests answered by the built bootstraps behind the gateway" >&2
  rm -rf "$lambda_tmp"
  check scripts/invoke-check.sh
else
  smoke_failed=$((smoke_failed + 1)) status=1
fi
step "arm64: build, and every event through the arm64 bootstraps"
check scripts/arm64-check.sh
step "make run, contract, clients, docs"
# `make run` itself, end to end (after cargo test, which has built local-api).
check scripts/smoke-run.sh
check scripts/schemathesis.sh
CONTRACT_MODE=lambda check scripts/schemathesis.sh
# The clients generated from the contract, each running a program against `make run`.
check scripts/clients.sh
check scripts/docs-check.sh
# Denials here come from the tests that remove a permission on purpose (tests/tests/api/iam.rs):
# under the project's template any denial fails its test.
"$CARGO" run -q "${cargo_flags[@]}" -p local-api -- iam-report "$LOCAL_IAM_USAGE_LOG" || status=1
step "done"
awk -v sp="$smoke_passed" -v sf="$smoke_failed" '/^test result:/ { p += $4; f += $6 }
  END { printf "tests: %d passed, %d failed\n", p + sp, f + sf }' "$log"
rm -f "$log" "$LOCAL_IAM_USAGE_LOG"
exit "$status"
