#!/usr/bin/env bash
# DynamoDB Local for development and tests (the functions live in scripts/lib.sh, which the other
# scripts source):
#
#   scripts/dynamodb-local.sh install
#   scripts/dynamodb-local.sh start PORT DATA_DIR|memory
#   scripts/dynamodb-local.sh status PORT     # exit 0 if DynamoDB answers on PORT
#   scripts/dynamodb-local.sh stop PORT
set -euo pipefail
source "$(dirname "$0")/lib.sh"

case ${1:-} in
  install) ddb_install ;;
  start) ddb_start "${@:2}" ;;
  status) ddb_status "${@:2}" ;;
  stop) ddb_stop "${@:2}" ;;
  *) ddb_die "usage: $0 install | start PORT DATA_DIR|memory | status PORT | stop PORT" ;;
esac
