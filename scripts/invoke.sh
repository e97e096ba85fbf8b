#!/usr/bin/env bash
# `make invoke FUNCTION=<LogicalId> EVENT=<file|-> [ENV_VARS=events/env.json]`: a Docker-free
# `sam local invoke`. Builds if needed, starts DynamoDB Local on DDB_PORT if it is not running (with
# `make run`'s data, stopped again afterwards), runs the function's bootstrap once on the event, prints
# its answer on stdout and its logs on stderr, and exits non-zero when the function fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

FUNCTION=${FUNCTION:?FUNCTION=<logical id of a function of template.yaml>}
EVENT=${EVENT:?EVENT=<event file, or - for stdin>}
ENV_VARS=${ENV_VARS:-}
DDB_PORT=${DDB_PORT:-8000}
DDB_DATA=${DDB_DATA:-.local/dynamodb-data}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

scripts/ensure-build.sh >&2
"${CARGO:-cargo}" build -q "${cargo_flags[@]}" -p local-api >&2
ddb_use "$DDB_PORT" "$DDB_DATA"
export TABLE_NAME=${TABLE_NAME:-customer-api}
args=(invoke "$FUNCTION" "$EVENT")
[[ -z $ENV_VARS ]] || args+=(--env-vars "$ENV_VARS")
"${CARGO:-cargo}" run -q "${cargo_flags[@]}" -p local-api -- "${args[@]}"
