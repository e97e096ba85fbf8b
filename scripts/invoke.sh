#!/usr/bin/env bash
# `make invoke FUNCTION=<LogicalId> EVENT=<file|-> [ENV_VARS=events/env.json]`: a Docker-free
# `sam local invoke`. Builds if needed, starts DynamoDB Local on DDB_PORT if it is not running (with
# `make run`'s data, stopped again afterwards), runs the function's bootstrap once on the event, prints
# its answer on stdout and its logs on stderr, and exits non-zero when the function fails.
set -euo pipefail
cd "$(dirname "$0")/.."

FUNCTION=${FUNCTION:?FUNCTION=<logical id of a function of template.yaml>}
EVENT=${EVENT:?EVENT=<event file, or - for stdin>}
ENV_VARS=${ENV_VARS:-}
DDB_PORT=${DDB_PORT:-8000}
DDB_DATA=${DDB_DATA:-.local/dynamodb-data}
DDB=scripts/dynamodb-local.sh
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

scripts/ensure-build.sh >&2
"${CARGO:-cargo}" build -q "${cargo_flags[@]}" -p local-api >&2
"$DDB" install >&2
if ! "$DDB" status "$DDB_PORT" >/dev/null 2>&1; then
  trap '"$DDB" stop "$DDB_PORT" >&2' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  "$DDB" start "$DDB_PORT" "$DDB_DATA" >&2
fi

export DYNAMODB_ENDPOINT=http://127.0.0.1:$DDB_PORT
export AWS_REGION=${AWS_REGION:-us-east-1} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=${TABLE_NAME:-customer-api}
args=(invoke "$FUNCTION" "$EVENT")
[[ -z $ENV_VARS ]] || args+=(--env-vars "$ENV_VARS")
"${CARGO:-cargo}" run -q "${cargo_flags[@]}" -p local-api -- "${args[@]}"
