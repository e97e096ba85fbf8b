#!/usr/bin/env bash
# The built functions of `make build` (.aws-sam/build), built first when missing or stale: older
# than the template, the workspace manifests, or any source of a crate the functions are built from.
# Used by `make run-lambda`, `make invoke` and `make test`, which run what ships. ARCHITECTURE
# (default: this machine's) and BUILD_DIR choose the build, as for scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-.aws-sam/build}
# scripts/build.sh writes the architecture it built for here, after its checks passed.
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
elif [[ $(cat "$stamp") != "$arch" ]]; then
  reason="$BUILD_DIR holds a $(cat "$stamp") build, not $arch"
else
  for f in $(python3 - <<'PY'
import re
text = open("template.yaml").read()
for name in re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function", text, re.M):
    print(name)
PY
  ); do
    [[ -x $BUILD_DIR/$f/bootstrap ]] || { reason="$BUILD_DIR/$f/bootstrap is missing"; break; }
  done
  if [[ -z $reason ]]; then
    newer=$(find template.yaml Cargo.toml Cargo.lock shared functions -newer "$stamp" -type f \
      \( -name '*.rs' -o -name '*.toml' -o -name '*.lock' -o -name '*.yaml' -o -name '*.pem' \) -print -quit)
    [[ -z $newer ]] || reason="$newer changed since the last build"
  fi
fi
if [[ -n $reason ]]; then
  echo "ensure-build: $reason: make build" >&2
  ARCHITECTURE=$arch BUILD_DIR=$BUILD_DIR scripts/build.sh
fi
