#!/usr/bin/env bash
# `make arm64-check` (part of `make test`): the architecture the template ships by default (arm64),
# built and run before it ships. Builds every function for arm64 into .aws-sam/build-arm64
# (cross-compiled with zig, as CI's deploy job does) unless that build is current, then runs every
# events/ file through the arm64 bootstraps behind the local gateway. On an x86_64 machine they run
# under qemu-aarch64-static with Debian's arm64 glibc, installed here when missing (as root).
# --build-only: the build, not the run (`make test` builds both architectures before any test).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

CARGO=${CARGO:-cargo}
DDB_PORT=${TEST_DDB_PORT:-8765}
BUILD_DIR=.aws-sam/build-arm64
TARGET=aarch64-unknown-linux-gnu
read -ra cargo_flags <<<"${CARGO_FLAGS:-}"

fail() {
  echo "arm64-check: FAIL: $*" >&2
  exit 1
}

if [[ $(uname -m) != aarch64 ]]; then
  missing=()
  command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
  [[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ]] || missing+=(libc6-arm64-cross)
  [[ -e /usr/aarch64-linux-gnu/lib/libgcc_s.so.1 ]] || missing+=(libgcc-s1-arm64-cross)
  if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || fail "running arm64 here needs: sudo apt-get install ${missing[*]}"
    echo "arm64-check: installing ${missing[*]} ..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi
scripts/venv.sh
ARCHITECTURE=arm64 BUILD_DIR=$BUILD_DIR scripts/ensure-build.sh
[[ ${1:-} != --build-only ]] || exit 0

ddb_use "$DDB_PORT" memory
unset TABLE_NAME
LOCAL_BUILD_DIR=$PWD/$BUILD_DIR API_TESTS_MODE=lambda "$CARGO" test "${cargo_flags[@]}" --workspace --test events
echo "arm64-check: every events/ file answered as expected by the arm64 bootstraps of $BUILD_DIR:" >&2
# What was tested, byte for byte: the deploy compares these with what it deploys.
bootstrap_sums "$BUILD_DIR" | tee "$BUILD_DIR/tested.sha256" >&2
