#!/usr/bin/env bash
# `make contract`: schemathesis against docs/openapi.yaml and a local-api of its own (in-memory
# DynamoDB Local, a fresh table, a temporary key directory), seeded with real data. Checks that no
# request gets a 5xx and that every response conforms to the spec (status code, content type,
# headers, body schema), through the examples, coverage, fuzzing and stateful (the spec's links)
# phases. Installs nothing: the schemathesis pin lives in scripts/venv.sh (`make venv`).
# Stops everything it started on exit; ends with one `contract: ...` line; non-zero on any failure.
#
# Environment (defaults): CONTRACT_DDB_PORT (8790), CONTRACT_PORT (3790), CONTRACT_BANK (demo-bank,
# the spec's example), CONTRACT_SEED (fixed), CONTRACT_MAX_EXAMPLES (25 per operation in fuzzing),
# CONTRACT_STATEFUL_EXAMPLES (150 scenarios), CONTRACT_MAX_STEPS (8 per scenario), CONTRACT_WORKERS
# (1: deterministic, and Python 3.11's ast is not thread-safe), CONTRACT_TIMEOUT (240 s for
# schemathesis), CONTRACT_EXTRA_CHECKS (more schemathesis checks, comma-separated),
# CONTRACT_REPORT_DIR (keep the JUnit and NDJSON reports there), CONTRACT_MODE (lambda: through the
# built functions, as `make run-lambda`), CARGO, CARGO_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

DDB_PORT=${CONTRACT_DDB_PORT:-8790}
PORT=${CONTRACT_PORT:-3790}
BANK=${CONTRACT_BANK:-demo-bank}
SEED=${CONTRACT_SEED:-20251124}
MAX_EXAMPLES=${CONTRACT_MAX_EXAMPLES:-25}
MAX_STEPS=${CONTRACT_MAX_STEPS:-8}
STATEFUL_EXAMPLES=${CONTRACT_STATEFUL_EXAMPLES:-150}
WORKERS=${CONTRACT_WORKERS:-1}
TIMEOUT=${CONTRACT_TIMEOUT:-240}
EXTRA_CHECKS=${CONTRACT_EXTRA_CHECKS:-}
CARGO=${CARGO:-cargo}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"
SCHEMATHESIS=$PWD/.venv/bin/schemathesis
PYTHON=$PWD/.venv/bin/python
SPEC=$PWD/docs/openapi.yaml
BASE=http://127.0.0.1:$PORT

started=$SECONDS
say() { echo "schemathesis.sh: $*" >&2; }
summarized=
summary() {
  echo "contract${CONTRACT_MODE:+ ($CONTRACT_MODE)}: $*"
  summarized=1
}
die() {
  say "$*"
  ! declare -F cleanup >/dev/null || cleanup
  summary "FAILED ($*) in $((SECONDS - started))s"
  exit 1
}

[[ -x $SCHEMATHESIS ]] || die "$SCHEMATHESIS not found; run: make venv"

work=$(mktemp -d)
# Everything the tools write to the temp dir (schemathesis's grammar cache) goes with $work.
export TMPDIR=$work
api_pid=
run_pid=
stop_pid() {
  if [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}
cleanup() { # idempotent: called before the closing line and again on exit
  stop_pid "$run_pid"
  run_pid=
  stop_pid "$api_pid"
  api_pid=
  rm -rf "$work"
}
on_exit() {
  local status=$EXIT_STATUS
  cleanup
  [[ -n $summarized ]] || summary "FAILED (stopped with status $status) in $((SECONDS - started))s"
}
at_exit on_exit

# ----- DynamoDB Local and local-api
ddb_use "$DDB_PORT" memory
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && die "port $PORT is already in use"

export TABLE_NAME=contract-$$ LOCAL_DIR=$work/local PORT
ddb_table "$TABLE_NAME"
unset PAGE_TOKEN_SECRET

# Build in the foreground (the cargo lock may be held by another build), then start at once.
"$CARGO" build -q "${cargo_flags[@]}" -p local-api || die "cargo build -p local-api failed"
# CONTRACT_MODE=lambda: the built functions of `make build` behind the gateway (make run-lambda).
serve=(serve)
[[ ${CONTRACT_MODE:-} != lambda ]] || serve=(serve --lambda)
"$CARGO" run -q "${cargo_flags[@]}" -p local-api -- "${serve[@]}" >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 600); do
  curl -s -o /dev/null "$BASE/" && break
  kill -0 "$api_pid" 2>/dev/null || { tail -20 "$work/api.log" >&2; die "local-api exited during startup"; }
  sleep 0.1
done
curl -s -o /dev/null "$BASE/" || die "local-api did not answer on $BASE"

# Staff of $BANK with every scope, signed with the server's key (same LOCAL_DIR).
TOKEN=$("$CARGO" run -q "${cargo_flags[@]}" -p local-api -- token --sub schemathesis --bank "$BANK") ||
  die "local-api token failed"
export CONTRACT_TOKEN=$TOKEN
# Another member of staff requests the seeded credit limit order: the four-eyes rule lets the
# contract's token decide it.
MAKER=$("$CARGO" run -q "${cargo_flags[@]}" -p local-api -- token --sub schemathesis-maker --bank "$BANK") ||
  die "local-api token failed"

# ----- real data: a customer linked to the caller, with one record of every kind
post() { # post PATH JSON [FIELD]: prints FIELD of the 201 answer; fails on any other answer
  local out
  out=$(curl -s -w '\n%{http_code}' -X POST "$BASE$1" -H "Authorization: Bearer $TOKEN" -d "$2") || return 1
  if [[ ${out##*$'\n'} != 201 ]]; then
    say "seeding: POST $1 answered: $out"
    return 1
  fi
  [[ -z ${3:-} ]] || "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "${out%$'\n'*}" "$3"
}
seed() {
  customer=$(post /v1/customers "{\"bank_id\": \"$BANK\", \"legal_name\": \"Ada Lovelace\",
    \"customer_number\": \"C-0001\", \"email\": \"ada@example.com\", \"mobile_phone_number\": \"+44 20 7946 0958\",
    \"date_of_birth\": \"1815-12-10\", \"credit_limit\": {\"cur\": \"GBP\", \"num\": \"0.00\"},
    \"branchId\": \"london-1\"}" customer_id) || return 1
  local c=/v1/banks/$BANK/customers/$customer
  post "/v1/banks/$BANK/user_customer_links" "{\"user_id\": \"schemathesis\", \"customer_id\": \"$customer\"}" &&
    address=$(post "/v1/customers/$customer/address" \
      '{"line_1": "12 St James Square", "city": "London", "country_code": "GB", "tags": ["home"]}' \
      customer_address_id) &&
    # The address updated: the first one is deleted early on.
    kept_address=$(post "/v1/customers/$customer/address" \
      '{"line_1": "1 Dorset Street", "city": "London", "country_code": "GB"}' customer_address_id) &&
    residence=$(post "$c/tax-residences" '{"domain": "GB", "tax_number": "AB 12 34 56 C"}' tax_residence_id) &&
    order=$(TOKEN=$MAKER post "$c/credit_limit/requests" '{"requested_current_rate_amount1": "1500.00"}' \
      credit_limit_order_id) &&
    post "/v1/customers/$customer/social_media_handles" '{"type": "twitter", "handle": "@ada"}' &&
    post "/v1/banks/$BANK/crm-events" "{\"customer_id\": \"$customer\", \"category\": \"call\"}" &&
    # The customer read by number: the first one's number changes under PUT .../number.
    reader=$(post /v1/customers \
      "{\"bank_id\": \"$BANK\", \"legal_name\": \"Charles Babbage\", \"customer_number\": \"C-0002\"}" customer_id)
}
seed || die "seeding the API failed"
say "seeded customer $customer (a link, 2 addresses, tax residence, order, handle, CRM event) and $reader"

# ----- schemathesis
# Path parameters are mostly the token's bank and the seeded ids, else nearly every request would be
# a 403 or 404; the rest of the time they are generated from the spec. The stateful phase follows
# the spec's links only (no inferred ones).
cat >"$work/schemathesis.toml" <<EOF
seed = $SEED
hooks = "$work/hooks.py"
workers = $WORKERS
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large", "large_base_example"]

[cache]
enabled = false

[generation]
max-examples = $MAX_EXAMPLES
database = "none"

[phases.stateful]
max-steps = $MAX_STEPS
inference.algorithms = []
generation.max-examples = $STATEFUL_EXAMPLES

[checks]
enabled = false
not_a_server_error.enabled = true
status_code_conformance.enabled = true
content_type_conformance.enabled = true
response_headers_conformance.enabled = true
response_schema_conformance.enabled = true
ignored_auth.enabled = true
use_after_free.enabled = true
ensure_resource_availability.enabled = true
# Invalid requests (wrong types, missing fields, extra properties) must be rejected.
negative_data_rejection.enabled = true
$(for check in ${EXTRA_CHECKS//,/ }; do echo "$check.enabled = true"; done)

[auth.openapi.bearerAuth]
bearer = "\${CONTRACT_TOKEN}"

[dictionaries]
bank = { values = ["$BANK"] }
customer = { values = ["$customer"] }
address = { values = ["$address"] }
residence = { values = ["$residence"] }
order = { values = ["$order"] }
reader = { values = ["$reader"] }
kept_address = { values = ["$kept_address"] }
number = { values = ["C-0002"] }

[parameters]
"path.BankID" = { dictionary = "bank", probability = 0.9 }
"body.bank_id" = { dictionary = "bank", probability = 0.9 }
"path.CustomerID" = { dictionary = "customer", probability = 0.6 }
"path.CustomerAddressID" = { dictionary = "address", probability = 0.6 }
"path.TaxResidenceID" = { dictionary = "residence", probability = 0.6 }
"path.RequestID" = { dictionary = "order", probability = 0.6 }

[[operations]]
include-operation-id = ["CreateCrmEvent", "CreateUserCustomerLink"]
[operations.parameters]
"body.customer_id" = { dictionary = "customer", probability = 0.6 }

[[operations]]
include-operation-id = "UpdateCustomerAddress"
[operations.parameters]
"path.CustomerAddressID" = { dictionary = "kept_address", probability = 0.6 }

[[operations]]
include-operation-id = "GetCustomerByCustomerNumber"
[operations.parameters]
"path.CustomerID" = { dictionary = "reader", probability = 0.6 }
"path.CustomerNumber" = { dictionary = "number", probability = 0.6 }
EOF

# Two rules the spec states in words but JSON Schema cannot express, applied to the generated
# requests so that valid ones are valid: creates must not share the few Idempotency-Key values
# generators favour ("0", "00"...): a reused key with another body is a (correct) 409 and nothing
# would be created, so a valid key gets a unique, deterministic suffix; and a body's copy of a path
# id (bank_id, customer_id, customer_address_id) must equal the path's, so positive cases get it.
cat >"$work/hooks.py" <<'PY'
import itertools
import re

import schemathesis
from schemathesis import GenerationMode
from schemathesis.specs.openapi import stateful

# Stateful scenarios start only at "reliable" roots: POSTs none of whose inputs names a resource
# that no operation returns. Here {BankID} (a "Bank") and branchId (a "Branch") are such names, so
# schemathesis 4.32 would start every scenario at AddAddressToCustomer and never follow the links
# of CreateCustomer, CreateTaxResidence, CreateCreditLimitOrder, CreateCrmEvent or
# CreateUserCustomerLink. Every POST is a good root for this API (the bank is the token's).
stateful.is_likely_root_transition = lambda operation, node, produced_anywhere: operation.method == "post" or (
    operation.method == "get" and not operation.path_parameters
)

VALID_KEY = re.compile(r"[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?")
ECHOED = {"bank_id": "BankID", "customer_id": "CustomerID", "customer_address_id": "CustomerAddressID"}
counter = itertools.count(1)


@schemathesis.hook
def before_call(context, case, kwargs):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        case.headers["Idempotency-Key"] = f"{key[:240]}.{next(counter)}"
    positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and isinstance(case.body, dict):
        path = case.path_parameters or {}
        for field, parameter in ECHOED.items():
            if field in case.body and parameter in path:
                case.body[field] = path[parameter]
PY

mkdir -p "$work/reports"
# In the background so that a signal to this script stops it at once (`timeout` passes it on).
(cd "$work" && exec timeout --signal=INT --kill-after=20 "$TIMEOUT" \
  "$SCHEMATHESIS" --config-file "$work/schemathesis.toml" --no-color run "$SPEC" --url "$BASE" \
  --report junit,ndjson --report-dir "$work/reports") &
run_pid=$!
status=0
wait "$run_pid" || status=$?
run_pid=
if [[ -n ${CONTRACT_REPORT_DIR:-} ]]; then
  mkdir -p "$CONTRACT_REPORT_DIR" && cp -r "$work/reports/." "$CONTRACT_REPORT_DIR/"
fi

# ----- one closing line
counts=$("$PYTHON" - "$work/reports" <<'PY' || true
import glob, json, sys

operations, requests, failures, links, covered = set(), 0, 0, 0, set()
for path in glob.glob(sys.argv[1] + "/*.ndjson"):
    for line in open(path):
        event = json.loads(line)
        if "LoadingFinished" in event:
            links = event["LoadingFinished"]["statistic"]["transitions"]["selected"]
        data = event.get("ScenarioFinished")
        if not data:
            continue
        recorder = data["recorder"]
        if data["phase"] != "stateful" and recorder.get("cases"):
            operations.add(recorder["label"])
        for case in recorder.get("cases", {}).values():
            if case.get("transition"):
                covered.add(case["transition"]["id"])
        requests += sum(1 for i in recorder.get("interactions", {}).values() if i.get("response"))
        failures += sum(c["status"] == "failure" for checks in recorder.get("checks", {}).values() for c in checks)
print(f"{len(operations)} operations, {requests} requests, {failures} failed checks,", end=" ")
print(f"{len(covered)}/{links} links followed")
PY
)
cleanup
elapsed=$((SECONDS - started))
case $status in
  0) summary "passed: ${counts:-?} in ${elapsed}s (seed $SEED)" ;;
  124 | 130 | 137) summary "FAILED: schemathesis exceeded ${TIMEOUT}s; ${counts:-?} in ${elapsed}s (seed $SEED)" ;;
  *) summary "FAILED: ${counts:-?} in ${elapsed}s (seed $SEED)" ;;
esac
exit "$status"
