#!/usr/bin/env bash
# Creates .venv with pinned aws-sam-cli and cfn-lint. Re-runs are instant thanks to a stamp file.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM_CLI_VERSION=1.170.0
CFN_LINT_VERSION=1.58.0
VENV=.venv
# The stamp names the pins, so bumping a version triggers a reinstall.
STAMP="$VENV/.installed-sam-$SAM_CLI_VERSION-cfnlint-$CFN_LINT_VERSION"

[[ -f $STAMP ]] && exit 0

[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
echo "Installing aws-sam-cli==$SAM_CLI_VERSION cfn-lint==$CFN_LINT_VERSION into $VENV ..." >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION"
rm -f "$VENV"/.installed-*
touch "$STAMP"
