#!/usr/bin/env bash
# What `make bench` needs beyond `make build` and DynamoDB Local: wrk (the throughput run) and zip
# (the functions' package sizes; python3's zipfile does when zip is missing). Installed with apt-get
# when missing, as root, as `make test` installs its own tools; otherwise it stops and names the
# command to run. Called by scripts/bench.sh before anything is built, so that a missing tool stops
# the bench in seconds, not after the build.
set -euo pipefail

fail() {
  echo "bench: $*" >&2
  exit 1
}

missing() {
  local need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v zip >/dev/null || command -v python3 >/dev/null || need+=(zip)
  echo "${need[*]}"
}

read -ra need <<<"$(missing)"
((${#need[@]})) || exit 0
command -v apt-get >/dev/null || fail "the bench needs ${need[*]}: install them with your system's package manager"
[[ $(id -u) == 0 ]] || fail "the bench needs ${need[*]}: sudo apt-get update && sudo apt-get install -y ${need[*]}"
echo "bench: installing ${need[*]} ..." >&2
# A fresh machine's package lists may be empty or stale: update first.
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
read -ra still <<<"$(missing)"
((${#still[@]} == 0)) || fail "apt-get installed ${need[*]}, but ${still[*]} is still not on PATH"
