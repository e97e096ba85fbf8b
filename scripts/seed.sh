#!/usr/bin/env bash
# `make seed`: loads the demo bank (`local-api seed`) into the table that `make run` uses, with
# `make run` running or not. DynamoDB Local on DDB_PORT with its data in DDB_DATA, as scripts/run.sh
# has it: reused when it answers, else started for the seed and stopped afterwards. The table is
# created when missing. Running it again creates nothing and fails nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DDB_PORT=${DDB_PORT:-8000}
DDB_DATA=${DDB_DATA:-.local/dynamodb-data}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

ddb_use "$DDB_PORT" "$DDB_DATA"
export TABLE_NAME=${TABLE_NAME:-customer-api}

"${CARGO:-cargo}" run "${cargo_flags[@]}" -q -p local-api -- seed
