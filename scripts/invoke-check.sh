#!/usr/bin/env bash
# `make invoke` as a user runs it, for every function of the template: each group's first success
# event with events/env.json (the functions' answer must be a proxy response; the changes function's
# a batch answer with no failed record, its events in LOCAL_DIR/events.jsonl), and the authorizer
# on a TOKEN event with a fresh dev token (Allow) and on a forged one (Unauthorized, exit 1).
# Uses its own DynamoDB Local port and data directory.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

work=$(mktemp -d)
at_exit 'rm -rf "$work"'
export DDB_PORT=${INVOKE_DDB_PORT:-8023} DDB_DATA=$work/data LOCAL_DIR=$work/local TABLE_NAME=customer-api
fail() {
  echo "invoke-check: FAIL: $*" >&2
  exit 1
}
# events/env.json points the functions at DynamoDB Local on port 8000 (host.docker.internal);
# this check's own port goes in a copy, as a user would edit theirs.
sed "s/host.docker.internal:8000/host.docker.internal:$DDB_PORT/" events/env.json >"$work/env.json"

# Started here (make invoke, as a user runs it, then finds it running and leaves it be).
ddb_use "$DDB_PORT" "$DDB_DATA"

count=0
functions=$(template_functions)
while read -r name group <&3; do
  if [[ $group == authorizer ]]; then
    "${CARGO:-cargo}" run -q "${cargo_flags[@]}" -p local-api -- token-event --bank bank-1 >"$work/token.json"
    out=$(FUNCTION=$name EVENT=$work/token.json scripts/invoke.sh 2>"$work/$name.log") ||
      fail "$name on a fresh token: $out ($(tail -3 "$work/$name.log"))"
    [[ $out == *'"Effect":"Allow"'* ]] || fail "$name did not allow a fresh token: $out"
    sed 's/"Bearer [^"]*"/"Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln"/' "$work/token.json" >"$work/forged.json"
    if out=$(FUNCTION=$name EVENT=$work/forged.json scripts/invoke.sh 2>>"$work/$name.log"); then
      fail "$name accepted a forged token: $out"
    fi
    [[ $out == *'"Unauthorized"'* ]] || fail "$name on a forged token answered: $out"
  elif [[ -n $(python3 -c '
import json, sys
expected = json.load(open(f"events/{sys.argv[1]}/expected.json"))
print("stream" if any(isinstance(v, dict) and "batch_item_failures" in v for v in expected.values()) else "")' "$group") ]]; then
    # A stream's function: its first event that every record of succeeds, all records done.
    event=$(python3 -c '
import json, sys
expected = json.load(open(f"events/{sys.argv[1]}/expected.json"))
ok = sorted(f for f, v in expected.items() if v["batch_item_failures"] == 0)
print(f"events/{sys.argv[1]}/{ok[0]}")' "$group")
    out=$(FUNCTION=$name EVENT=$event ENV_VARS=$work/env.json scripts/invoke.sh 2>"$work/$name.log") ||
      fail "$name on $event: $out ($(tail -3 "$work/$name.log"))"
    [[ $(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["batchItemFailures"])' 2>/dev/null) == "[]" ]] ||
      fail "$name on $event did not do every record: $out ($(tail -3 "$work/$name.log"))"
  else
    event=$(python3 -c '
import json, sys
expected = json.load(open(f"events/{sys.argv[1]}/expected.json"))
ok = sorted(f for f, v in expected.items() if 200 <= (v if isinstance(v, int) else v["status"]) < 300)
print(f"events/{sys.argv[1]}/{ok[0]}")' "$group")
    out=$(FUNCTION=$name EVENT=$event ENV_VARS=$work/env.json scripts/invoke.sh 2>"$work/$name.log") ||
      fail "$name on $event: $out ($(tail -3 "$work/$name.log"))"
    # A proxy response, and not a fault (a denied DynamoDB call or a missing table is a 500).
    status=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["statusCode"])' 2>/dev/null) ||
      fail "$name on $event answered no proxy response: $out"
    ((status < 500)) || fail "$name on $event answered $status: $out"
  fi
  count=$((count + 1))
done 3<<<"$functions"
[[ $count -ge 9 ]] || fail "only $count functions found in template.yaml"
echo "invoke-check: make invoke ran all $count functions of the template"
