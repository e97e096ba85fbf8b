#!/usr/bin/env bash
# `make run` (`make run-lambda`: `scripts/run.sh --lambda`): DynamoDB Local with data persisted under
# .local/dynamodb-data, then local-api in the foreground, running the routers in-process or, with
# --lambda, the built functions of `make build` (built first when missing or stale). DynamoDB Local is stopped when local-api exits or on Ctrl-C, unless it was already
# running before (then it is someone else's and is left alone).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

PORT=${PORT:-3000}
DDB_PORT=${DDB_PORT:-8000}
DDB_DATA=${DDB_DATA:-.local/dynamodb-data}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"
serve=(serve)
if [[ ${1:-} == --lambda ]]; then
  scripts/ensure-build.sh
  serve=(serve --lambda)
fi

ddb_use "$DDB_PORT" "$DDB_DATA"
export TABLE_NAME=${TABLE_NAME:-customer-api} PORT

# Not exec'd: the exit handler stops the DynamoDB Local it started once local-api has stopped.
"${CARGO:-cargo}" run "${cargo_flags[@]}" -q -p local-api -- "${serve[@]}"
