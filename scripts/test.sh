#!/usr/bin/env bash
# `make test` (minus the template lint): fmt, clippy, then the whole workspace's tests against ONE
# in-memory DynamoDB Local, which is stopped afterwards even when something fails.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_DDB_PORT=${TEST_DDB_PORT:-8765}
CARGO=${CARGO:-cargo}
DDB=scripts/dynamodb-local.sh
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

"$CARGO" fmt --all -- --check
"$CARGO" clippy "${cargo_flags[@]}" --workspace --all-targets -- -D warnings

"$DDB" install
if "$DDB" status "$TEST_DDB_PORT"; then
  echo "test: reusing DynamoDB Local already running on port $TEST_DDB_PORT" >&2
else
  trap '"$DDB" stop "$TEST_DDB_PORT"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  "$DDB" start "$TEST_DDB_PORT" memory
fi

export DYNAMODB_ENDPOINT=http://127.0.0.1:$TEST_DDB_PORT
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
# Tests create their own uniquely named tables; a TABLE_NAME from the caller's shell must not leak in.
unset TABLE_NAME

# One closing line with the totals of every test binary, so the run's result reads at a glance.
log=$(mktemp)
status=0
"$CARGO" test "${cargo_flags[@]}" --workspace 2>&1 | tee "$log" || status=$?
# `make run` itself, end to end (after cargo test, which has built local-api).
smoke_passed=0 smoke_failed=0
if scripts/smoke-run.sh; then smoke_passed=1; else smoke_failed=1 status=1; fi
if scripts/schemathesis.sh; then smoke_passed=$((smoke_passed + 1)); else smoke_failed=$((smoke_failed + 1)) status=1; fi
if scripts/docs-check.sh; then smoke_passed=$((smoke_passed + 1)); else smoke_failed=$((smoke_failed + 1)) status=1; fi
awk -v sp="$smoke_passed" -v sf="$smoke_failed" '/^test result:/ { p += $4; f += $6 }
  END { printf "tests: %d passed, %d failed\n", p + sp, f + sf }' "$log"
rm -f "$log"
exit "$status"
