#!/usr/bin/env bash
# Part of `make bench`: installs the peers of the Rust customers function into
# bench/peers/.build/<peer>/ (git-ignored): the handler from bench/peers/<peer>/, its runtime
# interface client and SDK, and a `bootstrap` that starts the client, as a Lambda custom runtime
# would. A peer that cannot be installed gets an UNAVAILABLE file saying why instead, and the bench
# goes on without it. An installed peer is kept until its handler or this script changes.
#
#   python: Python 3.11 (python3.11 on PATH), awslambdaric and boto3 from PyPI (pip --target);
#   node:   Node.js 20 (node, npm on PATH), aws-lambda-ric and the AWS SDK v3 from npm. aws-lambda-ric
#           builds a native client: cmake, autoconf, automake, libtool and g++ (installed with
#           apt-get when missing and allowed).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=bench/peers/.build
AWSLAMBDARIC=4.2.2
BOTO3=1.44.18
AWS_LAMBDA_RIC=3.3.0
AWS_SDK=3.996.0

fresh() { # dir source...: whether dir's bootstrap is newer than every source and this script
  [[ -x $1/bootstrap ]] || return 1
  local f
  for f in "${@:2}" "$0"; do [[ $f -nt $1/bootstrap ]] && return 1; done
  return 0
}

unavailable() { # dir reason
  rm -f "$1/bootstrap"
  echo "$2" >"$1/UNAVAILABLE"
  echo "bench-peers: $(basename "$1"): $2" >&2
}

python_peer() {
  local dir=$BUILD/python src=bench/peers/python/handler.py
  fresh "$dir" "$src" && return
  rm -rf "$dir" && mkdir -p "$dir"
  local python
  python=$(command -v python3.11 >/dev/null && python3.11 -c 'import sys; print(sys.executable)') ||
    { unavailable "$dir" "python3.11 is not installed"; return; }
  echo "bench-peers: python: awslambdaric $AWSLAMBDARIC, boto3 $BOTO3 (pip --target)" >&2
  "$python" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --target "$dir/package" \
    "awslambdaric==$AWSLAMBDARIC" "boto3==$BOTO3" >"$dir/install.log" 2>&1 ||
    { unavailable "$dir" "pip could not install awslambdaric and boto3 (see $dir/install.log)"; return; }
  cp "$src" "$dir/"
  cat >"$dir/bootstrap" <<BOOT
#!/bin/sh
# awslambdaric serves handler.handler through the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API).
PYTHONPATH="\$LAMBDA_TASK_ROOT/package" exec "$python" -m awslambdaric handler.handler
BOOT
  chmod +x "$dir/bootstrap"
}

node_peer() {
  local dir=$BUILD/node src=bench/peers/node/index.mjs
  fresh "$dir" "$src" && return
  rm -rf "$dir" && mkdir -p "$dir"
  local node
  node=$(command -v node) && command -v npm >/dev/null || { unavailable "$dir" "node and npm are not installed"; return; }
  if ! command -v cmake >/dev/null || ! command -v autoreconf >/dev/null || ! command -v libtoolize >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      echo "bench-peers: node: installing the native build tools of aws-lambda-ric (apt-get)" >&2
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        cmake autoconf automake libtool g++ make; } >"$dir/apt.log" 2>&1
    fi
  fi
  echo "bench-peers: node: aws-lambda-ric $AWS_LAMBDA_RIC, @aws-sdk/client-dynamodb $AWS_SDK (npm)" >&2
  # A package of its own, so that npm does not install into the repository's.
  echo '{"private": true, "type": "module"}' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
    "aws-lambda-ric@$AWS_LAMBDA_RIC" "@aws-sdk/client-dynamodb@$AWS_SDK" "@aws-sdk/util-dynamodb@$AWS_SDK") \
    >"$dir/install.log" 2>&1 ||
    { unavailable "$dir" "npm could not install aws-lambda-ric and the AWS SDK (see $dir/install.log)"; return; }
  [[ -n $(find "$dir/node_modules/aws-lambda-ric" -name '*.node' -print -quit) ]] ||
    { unavailable "$dir" "aws-lambda-ric has no native client (its build needs cmake, autoconf, automake, libtool, g++)"; return; }
  cp "$src" "$dir/"
  cat >"$dir/bootstrap" <<BOOT
#!/bin/sh
# aws-lambda-ric serves index.handler through the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API).
cd "\$LAMBDA_TASK_ROOT" && exec "$node" node_modules/aws-lambda-ric/bin/index.mjs index.handler
BOOT
  chmod +x "$dir/bootstrap"
}

mkdir -p "$BUILD"
python_peer
node_peer
