#!/usr/bin/env bash
# `make check`, the loop to run while working: the contract check, fmt, one debug compile linted by
# clippy (scripts/lib.sh: clippy_compiles), then the crates' own tests and the API and events suites
# in-process against one in-memory DynamoDB Local. What ships (the release bootstraps, arm64,
# schemathesis, the clients, the docs page) is `make test`'s.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CARGO=${CARGO:-cargo}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"
unset TABLE_NAME

start=$SECONDS
scripts/contract-check.sh
"$CARGO" fmt --all -- --check
clippy_compiles
"$CARGO" test "${cargo_flags[@]}" --workspace --no-run
ddb_use "${CHECK_DDB_PORT:-8764}" memory
"$CARGO" test "${cargo_flags[@]}" --workspace --exclude api-tests
ddb_fresh "${CHECK_DDB_PORT:-8764}"
# --workspace, filtered by target: `-p api-tests` alone resolves features to another variant.
# Four at a time: the suite waits on DynamoDB Local, not on the CPU (153 tests: 76 s with 4 threads
# on 2 cores, 311 s with the default 2).
"$CARGO" test "${cargo_flags[@]}" --workspace --test api --test events -- --test-threads 4
echo "check: passed in $((SECONDS - start)) s" >&2
