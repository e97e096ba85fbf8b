#!/usr/bin/env bash
# `make run` (`make run-lambda`: `scripts/run.sh --lambda`): DynamoDB Local with data persisted under
# .local/dynamodb-data, then local-api in the foreground, running the routers in-process or, with
# --lambda, the built functions of `make build` (built first when missing or stale). DynamoDB Local is stopped when local-api exits or on Ctrl-C, unless it was already
# running before (then it is someone else's and is left alone).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-3000}
DDB_PORT=${DDB_PORT:-8000}
DDB_DATA=${DDB_DATA:-.local/dynamodb-data}
DDB=scripts/dynamodb-local.sh
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"
serve=(serve)
if [[ ${1:-} == --lambda ]]; then
  scripts/ensure-build.sh
  serve=(serve --lambda)
fi

"$DDB" install
if "$DDB" status "$DDB_PORT"; then
  echo "run: reusing DynamoDB Local already running on port $DDB_PORT (it stays up afterwards)" >&2
else
  trap '"$DDB" stop "$DDB_PORT"' EXIT
  # Turn signals into a normal exit so the EXIT trap always runs.
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  "$DDB" start "$DDB_PORT" "$DDB_DATA"
fi

export DYNAMODB_ENDPOINT=http://127.0.0.1:$DDB_PORT
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=${TABLE_NAME:-customer-api} PORT

"${CARGO:-cargo}" run "${cargo_flags[@]}" -q -p local-api -- "${serve[@]}"
