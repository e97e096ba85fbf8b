#!/usr/bin/env bash
# The built functions of `make build` (.aws-sam/build), built first when missing or stale: made
# from other sources than these (the template, the workspace manifests, the crates the functions
# are built from; scripts/lib.sh: build_inputs), or for another architecture. Used by `make run-lambda`,
# `make invoke` and `make test`, which run what ships. ARCHITECTURE (default: this machine's) and
# BUILD_DIR choose the build, as for scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

BUILD_DIR=${BUILD_DIR:-.aws-sam/build}
# scripts/build.sh writes the architecture it built for and its inputs' digest here, after its checks.
stamp=$BUILD_DIR/.built
case $(uname -m) in
  x86_64 | amd64) host_arch=x86_64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
  *) host_arch=unknown ;;
esac
arch=${ARCHITECTURE:-$host_arch}
reason=
if [[ ! -f $stamp ]]; then
  reason="no complete build in $BUILD_DIR"
else
  read -r built_arch built_from <"$stamp" || true
  if [[ $built_arch != "$arch" ]]; then
    reason="$BUILD_DIR holds a $built_arch build, not $arch"
  elif [[ ${built_from:-} != "$(build_inputs)" ]]; then
    reason="the sources changed since the build in $BUILD_DIR"
  else
    for f in $(template_functions | cut -d' ' -f1); do
      [[ -x $BUILD_DIR/$f/bootstrap ]] || { reason="$BUILD_DIR/$f/bootstrap is missing"; break; }
    done
  fi
fi
if [[ -n $reason ]]; then
  echo "ensure-build: $reason: make build" >&2
  ARCHITECTURE=$arch BUILD_DIR=$BUILD_DIR scripts/build.sh
else
  echo "ensure-build: $BUILD_DIR is a current $arch build" >&2
fi
