#!/usr/bin/env bash
# The npm packages of package.json (the docs page's renderer swagger-ui-dist, and playwright-core and
# yaml for scripts/docs-check.mjs) into node_modules/, exactly as package-lock.json pins them
# (`npm ci`). Skipped when node_modules/ already holds what the lock file pins. No install scripts
# run, and no browser is downloaded: the docs check drives Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.installed-package-lock.json
if cmp -s package-lock.json "$stamp"; then exit 0; fi
command -v npm >/dev/null || { echo "npm-deps: npm not found; it installs the docs page's renderer" >&2; exit 1; }
echo "npm-deps: npm ci (pinned in package-lock.json) into node_modules/ ..." >&2
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
