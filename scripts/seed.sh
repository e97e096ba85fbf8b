#!/usr/bin/env bash
# `make seed`: loads the demo bank (`local-api seed`) into the table that `make run` uses, with
# `make run` running or not. DynamoDB Local on DDB_PORT with its data in DDB_DATA, as scripts/run.sh
# has it: reused when it answers, else started for the seed and stopped afterwards. The table is
# created when missing. Running it again creates nothing and fails nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

DDB_PORT=${DDB_PORT:-8000}
DDB_DATA=${DDB_DATA:-.local/dynamodb-data}
DDB=scripts/dynamodb-local.sh
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

"$DDB" install
if "$DDB" status "$DDB_PORT"; then
  echo "seed: using DynamoDB Local already running on port $DDB_PORT" >&2
else
  trap '"$DDB" stop "$DDB_PORT"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  "$DDB" start "$DDB_PORT" "$DDB_DATA"
fi

export DYNAMODB_ENDPOINT=http://127.0.0.1:$DDB_PORT
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export TABLE_NAME=${TABLE_NAME:-customer-api}

"${CARGO:-cargo}" run "${cargo_flags[@]}" -q -p local-api -- seed
