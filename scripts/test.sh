#!/usr/bin/env bash
# `make test`: everything, once per artifact, each stage timed (the table before the closing line).
#
#   tools        .venv and .venv-checkov, installed in the background while the Rust stages run
#   static       the contract check (every rule named by a test), fmt
#   compile      one debug compile of every crate and test, linted by clippy as it compiles
#   unit         the crates' own tests and the fault tests, in-process, against one DynamoDB Local
#   template     cfn-lint, sam validate, the deploy posture, checkov, actionlint
#   build        `make build` for x86_64 and for arm64 (the template's default), each once
#   api          the API suite (1, 16 and 64 shards within it) and the events, through the x86_64
#                bootstraps behind the local gateway and IAM check, and the burst through a frozen
#                DynamoDB; then `make invoke` of every function
#   arm64        every event through the arm64 bootstraps (under qemu here)
#   run          `make run` and `make run-lambda` end to end
#   contract     schemathesis through the built functions
#   clients      the three generated clients against `make run`
#   docs         the docs page in headless Chromium
#   iam          the local IAM check's report of every DynamoDB call of the run
#   leftovers    nothing left behind: no process, no temporary file, no table in a reused DynamoDB Local
#
# The in-process API suite is `make check`'s (the inner loop); here the API suite runs through what ships.
# A failed stage does not stop the run: the table says which failed, the exit status that one did.
# TEST_STAGES="api arm64": those stages only (CI runs them as parallel jobs from one build
# artifact); tools, build, iam and leftovers always run (build is a check when the build is current).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

TEST_DDB_PORT=${TEST_DDB_PORT:-8765}
CARGO=${CARGO:-cargo}
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"
unset TABLE_NAME # tests create their own uniquely named tables; none from the caller's shell

# Everything this run writes to the temp dir goes under one directory, checked empty at the end.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/make-test.XXXXXX")
at_exit 'rm -rf "$run_tmp"'
export TMPDIR=$run_tmp
# What was running before the run, so that the leftovers stage finds only what the run started.
processes_before=$(scripts/leftovers.sh processes)

log=$run_tmp/cargo-test.log
LOCAL_IAM_USAGE_LOG=$run_tmp/iam-usage.log
export LOCAL_IAM_USAGE_LOG
status=0 checks_passed=0 checks_failed=0
table=()
TEST_STAGES=${TEST_STAGES:-}
# stage NAME COMMAND...: runs COMMAND, timed; a failure is recorded and the run goes on.
stage() {
  local name=$1 start=$SECONDS result=ok
  shift
  case " tools build iam leftovers ${TEST_STAGES:-$name} " in
    *" $name "*) ;;
    *) return 0 ;;
  esac
  echo "test: ---- $name ($((SECONDS / 60)) min into the run)" >&2
  if "$@"; then checks_passed=$((checks_passed + 1)); else
    result=FAILED status=1 checks_failed=$((checks_failed + 1))
  fi
  table+=("$(printf '%-10s %5d s  %s' "$name" $((SECONDS - start)) "$result")")
}
# cargo_tests ARGS...: cargo test, its results counted in the closing line. Always over the whole
# workspace (--workspace, filtered by target): cargo resolves features over the packages it
# selects, and `-p api-tests` alone would compile another variant of the crates.
cargo_tests() {
  local rc=0
  "$CARGO" test "${cargo_flags[@]}" "$@" 2>&1 | tee -a "$log" || rc=$?
  return "$rc"
}

# ---- tools: pip installs, in the background (network and unpacking, while cargo compiles)
(scripts/venv.sh && scripts/security-check.sh --install-only) >"$run_tmp/tools.log" 2>&1 &
tools_pid=$!
tools() {
  wait "$tools_pid" && return 0
  cat "$run_tmp/tools.log" >&2
  return 1
}

static() {
  scripts/contract-check.sh && "$CARGO" fmt --all -- --check
}
stage static static

# One compile of the workspace for every later use of the dev profile (tests, local-api, the Rust
# client), with clippy as the compiler of the workspace's own crates: the lints of
# `cargo clippy --all-targets -- -D warnings` without a second pass over the dependencies.
compile() {
  clippy_compiles && "$CARGO" test "${cargo_flags[@]}" --workspace --no-run
}
stage compile compile

ddb_use "$TEST_DDB_PORT" memory
# The run's own DynamoDB Local is restarted empty before each stage of many tables and streams.
fresh_ddb() { ddb_fresh "$TEST_DDB_PORT"; }
tables_before=$(ddb_call "$TEST_DDB_PORT" ListTables '{}')

unit() {
  cargo_tests --workspace --exclude api-tests && cargo_tests --workspace --test faults
}
stage unit unit

stage tools tools
template() {
  local ok=0
  make --no-print-directory lint-template || ok=1
  make --no-print-directory security-check || ok=1
  make --no-print-directory actionlint || ok=1
  return "$ok"
}
stage template template

build() {
  scripts/ensure-build.sh && ARCHITECTURE=arm64 BUILD_DIR=.aws-sam/build-arm64 scripts/arm64-check.sh --build-only
}
stage build build

api() {
  fresh_ddb
  local rc=0 requests
  API_TESTS_MODE=lambda cargo_tests --workspace --test api --test events || rc=1
  # The 503 bound under an outage, cold starts included, through the built functions.
  API_TESTS_MODE=lambda cargo_tests --workspace --test faults -- --exact \
    a_burst_of_keyed_creates_through_a_frozen_dynamodb_is_answered_within_the_bound || rc=1
  # One access line per request a built function answered (the authorizer's TOKEN events aside),
  # from the functions' logs, which the local Lambda service keeps in the temp dir.
  requests=$(cat "$run_tmp"/*lambda-logs*/*.log 2>/dev/null | grep -c '"message":"request"' || true)
  echo "test: ${requests:-0} requests answered by the built bootstraps behind the gateway" >&2
  rm -rf "$run_tmp"/*lambda-logs*
  scripts/invoke-check.sh || rc=1
  return "$rc"
}
stage api api

arm64() {
  fresh_ddb
  scripts/arm64-check.sh
  local rc=$?
  rm -rf "$run_tmp"/*lambda-logs*
  return "$rc"
}
stage arm64 arm64
stage run scripts/smoke-run.sh
stage contract env CONTRACT_MODE=lambda scripts/schemathesis.sh
stage clients scripts/clients.sh
stage docs scripts/docs-check.sh
# Denials come from the tests that remove a permission on purpose (tests/tests/api/iam.rs): under
# the project's template any denial fails its test.
stage iam "$CARGO" run -q "${cargo_flags[@]}" -p local-api -- iam-report "$LOCAL_IAM_USAGE_LOG"

leftovers() {
  if [[ -n ${DDB_OWN[$TEST_DDB_PORT]:-} ]]; then ddb_stop "$TEST_DDB_PORT" && unset "DDB_OWN[$TEST_DDB_PORT]"; fi
  kill "$tools_pid" 2>/dev/null || true
  local args=("$processes_before" "$run_tmp" "$TEST_DDB_PORT" "$tables_before" "cargo-test.log iam-usage.log tools.log")
  # The check can fail: a file left on purpose is found.
  touch "$run_tmp/left-on-purpose"
  if scripts/leftovers.sh check "${args[@]}" 2>/dev/null; then
    echo "leftovers: the check missed a file left on purpose" >&2
    return 1
  fi
  rm "$run_tmp/left-on-purpose"
  scripts/leftovers.sh check "${args[@]}"
}
stage leftovers leftovers

echo "test: stages" >&2
printf '  %s\n' "${table[@]}" >&2
printf '  %-10s %5d s\n' total "$SECONDS" >&2
awk -v sp="$checks_passed" -v sf="$checks_failed" '/^test result:/ { p += $4; f += $6 }
  END { printf "tests: %d passed, %d failed\n", p + sp, f + sf }' "$log"
exit "$status"
