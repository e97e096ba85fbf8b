#!/usr/bin/env bash
# The smoke test of a deploy: proves the whole chain answers, not only the gateway. A request
# without a token must be 401 (API Gateway alone answers that); then a token from the identity
# provider (OAuth 2.0 client credentials) must reach the authorizer and a function, which reads
# DynamoDB: GET /v1/users/current/customers answers 200 with a `customers` list.
#
#   API_URL=https://.../stage TOKEN_URL=https://idp/oauth2/token \
#   SMOKE_CLIENT_ID=... SMOKE_CLIENT_SECRET=... [SMOKE_SCOPE=customer.read] scripts/smoke-deployed.sh
#
# The client is one the bank registers for this test only (a token whose `sub` is the client id, the
# API's audience and the customer.read scope, no bank_ids: it sees only its own, empty, list).
# `make test` runs it against `make run`, whose /local/oauth2/token plays the identity provider.
set -euo pipefail

: "${API_URL:?API_URL is the stack's ApiUrl output}"
: "${TOKEN_URL:?TOKEN_URL is the identity provider's token endpoint}"
: "${SMOKE_CLIENT_ID:?SMOKE_CLIENT_ID is the smoke-test client}"
: "${SMOKE_CLIENT_SECRET:?SMOKE_CLIENT_SECRET is its secret}"
SCOPE=${SMOKE_SCOPE:-customer.read}
url="${API_URL%/}/v1/users/current/customers"

fail() {
  echo "smoke-deployed: FAIL: $*" >&2
  echo "smoke-deployed: the stack is deployed but does not answer as it should. Roll back by deploying the last good commit again (re-run its deploy job), or by hand: scripts/deploy.sh ENV from that commit's build." >&2
  exit 1
}

code=$(curl -s -o /dev/null -w '%{http_code}' --retry 3 "$url")
[[ $code == 401 ]] || fail "GET $url without a token: HTTP $code, not 401"

answer=$(curl -s --retry 3 -u "$SMOKE_CLIENT_ID:$SMOKE_CLIENT_SECRET" \
  --data-urlencode grant_type=client_credentials --data-urlencode "scope=$SCOPE" "$TOKEN_URL") ||
  fail "the token endpoint $TOKEN_URL did not answer"
token=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["access_token"])' "$answer" 2>/dev/null) ||
  fail "the token endpoint gave no access_token: ${answer:0:200}"

body=$(mktemp)
trap 'rm -f "$body"' EXIT
code=$(curl -s -o "$body" -w '%{http_code}' --retry 3 -H "Authorization: Bearer $token" "$url")
[[ $code == 200 ]] || fail "GET $url with the smoke client's token: HTTP $code: $(head -c 300 "$body")"
python3 -c 'import json, sys; assert isinstance(json.load(open(sys.argv[1]))["customers"], list)' "$body" ||
  fail "GET $url answered 200 without a customers list"
echo "smoke-deployed: 401 without a token, 200 through the authorizer, a function and DynamoDB with one ($url)"
