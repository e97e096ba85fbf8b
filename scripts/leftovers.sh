#!/usr/bin/env bash
# What a `make test` run must not leave behind (its last stage):
#
#   scripts/leftovers.sh processes
#       the processes of the local stack now running, a line each ("PID COMMAND"): DynamoDB Local,
#       local-api, the functions' bootstraps (x86_64, or arm64 under qemu)
#   scripts/leftovers.sh check BEFORE RUN_TMP PORT TABLES_BEFORE KEEP
#       fails, naming each, on a process of that kind not in BEFORE (the output of `processes`
#       before the run), on anything in RUN_TMP (the run's temp dir) but the files named in KEEP,
#       and on a table of the DynamoDB Local on PORT, if it still runs (it was reused), that is not
#       in TABLES_BEFORE (its ListTables answer before the run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

processes() {
  local pid cmd
  for pid in $(ps -e -o pid=); do
    cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null) || continue
    case $cmd in
      *DynamoDBLocal.jar* | */local-api\ * | */local-api | */bootstrap | */bootstrap\ * | qemu-aarch64*)
        echo "$pid ${cmd:0:160}" ;;
    esac
  done
}

check() {
  local before=$1 run_tmp=$2 port=$3 tables_before=$4 keep=$5 problems=() line pid left table
  while read -r line; do
    [[ -n $line ]] || continue
    pid=${line%% *}
    grep -q "^$pid " <<<"$before" || problems+=("a process still runs: $line")
  done <<<"$(processes)"
  while read -r left; do
    [[ -n $left ]] || continue
    [[ " $keep " == *" $left "* ]] || problems+=("left in the temp dir: $left")
  done <<<"$(ls -A "$run_tmp")"
  if ddb_status "$port"; then
    for table in $(ddb_call "$port" ListTables '{}' | tr -d '{}[]"' | sed 's/TableNames://' | tr ',' ' '); do
      [[ $tables_before == *"\"$table\""* ]] || problems+=("a table left in the DynamoDB Local on port $port: $table")
    done
  fi
  if ((${#problems[@]})); then
    printf 'leftovers: %s\n' "${problems[@]}" >&2
    return 1
  fi
  echo "leftovers: no process, temporary file or table left behind" >&2
}

case ${1:-} in
  processes) processes ;;
  check) check "${@:2}" ;;
  *) echo "usage: $0 processes | check BEFORE RUN_TMP PORT TABLES_BEFORE KEEP" >&2; exit 2 ;;
esac
