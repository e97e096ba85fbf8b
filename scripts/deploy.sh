#!/usr/bin/env bash
# Deploys what `make build` left in BUILD_DIR (.aws-sam/build; CI: the arm64 build its stages tested,
# .aws-sam/build-arm64) as `sam deploy --config-env ENV` (samconfig.toml), printing the sha256 of
# every bootstrap it deploys.
#
#   scripts/deploy.sh dev|staging|prod [more sam deploy options]
#
# The page token secret is no parameter: the stack creates it in Secrets Manager (PageTokenSecret)
# and the functions read it at init. `sam deploy --parameter-overrides` replaces samconfig's
# parameter_overrides instead of adding to them, so this passes ENV's whole list explicitly.
#
# First, the account's own stack (deploy/account.yaml, stack customer-api-account in ENV's region):
# API Gateway's account-wide CloudWatch Logs role, which the stage's access logging needs before the
# stage is created. It is the one owner of that setting in an account and region; re-deploying it
# unchanged is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV=.venv
env=${1:-}
[[ $env =~ ^(dev|staging|prod)$ ]] || { echo "usage: $0 dev|staging|prod [sam deploy options]" >&2; exit 2; }
shift
BUILD_DIR=${BUILD_DIR:-.aws-sam/build}
[[ -f $BUILD_DIR/template.yaml ]] || { echo "deploy: nothing built in $BUILD_DIR; run make build first" >&2; exit 1; }
scripts/venv.sh

# ENV's parameter_overrides (a list or a space-separated string), one KEY=VALUE per line.
list=$("$VENV/bin/python" - "$env" <<'EOF'
import sys, tomlkit
env = sys.argv[1]
with open("samconfig.toml") as f:
    config = tomlkit.parse(f.read())
value = config[env]["deploy"]["parameters"].get("parameter_overrides", [])
for item in (value.split() if isinstance(value, str) else value):
    print(item)
EOF
)
mapfile -t overrides <<<"$list"
region=$("$VENV/bin/python" - "$env" <<'EOF'
import sys, tomlkit
with open("samconfig.toml") as f:
    print(tomlkit.parse(f.read())[sys.argv[1]]["global"]["parameters"]["region"])
EOF
)

SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" deploy --template-file deploy/account.yaml --stack-name customer-api-account \
  --region "$region" --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset --no-confirm-changeset \
  --tags project=customer-api

echo "deploy: the bootstraps of $BUILD_DIR, as deployed:" >&2
bootstrap_sums "$BUILD_DIR" >&2
SAM_CLI_TELEMETRY=0 "$VENV/bin/sam" deploy --config-env "$env" --template-file "$BUILD_DIR/template.yaml" \
  --parameter-overrides "${overrides[@]}" "$@"
