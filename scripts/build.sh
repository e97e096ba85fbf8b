#!/usr/bin/env bash
# `make build`: `sam build` of the whole template into .aws-sam/build, then checks that every function
# has its bootstrap. Extra arguments go to `sam build` (e.g. --debug).
#
# ARCHITECTURE (x86_64 | arm64) is what the functions are built for; it defaults to this machine's own.
# - Same as the host: plain `cargo build`, no zig involved.
# - arm64 on an x86_64 host (CI's deploy jobs): `cargo zigbuild`, zig as the cross-linker (both pinned
#   in .venv); needs the Rust target: `rustup target add aarch64-unknown-linux-gnu`.
# The template's own default stays arm64 (production). The built template (.aws-sam/build/template.yaml)
# is pinned to the architecture it was built for: its Architecture parameter defaults to it and allows
# nothing else, so `sam deploy` of x86_64 binaries as arm64 functions (or the reverse) fails at once.
#
# The dependency tree is compiled once, not once per function. Two things are needed for that:
# - one target directory: SAM's rust-cargolambda builder sets CARGO_TARGET_DIR to the workspace's;
# - the same features everywhere: SAM runs `cargo lambda build --bin NAME` in each function's folder,
#   and cargo unifies dependency features over the packages it selects, so the authorizer alone (hyper
#   as a client) and the customers function alone (hyper as a server too) resolve hyper differently,
#   and hyper, the AWS SDK and everything above them would be rebuilt for each function. So every
#   invocation selects all the template's function packages (-p ... -p ..., through cargo-lambda's
#   CARGO_LAMBDA_COMPILER_EXTRA_ARGS) and only its own --bin: the same resolution as one
#   `cargo lambda build` of every function. That needs cargo-lambda's `cargo` compiler; a cross build
#   runs cargo-zigbuild as its subcommand, which is what cargo-lambda's default compiler does inside.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV=.venv
TEMPLATE=${TEMPLATE:-template.yaml}
BUILD_DIR=${BUILD_DIR:-.aws-sam/build} # deploys read .aws-sam/build
# Lambda's provided.al2023 runtime has glibc 2.34: a bootstrap needing newer symbols would fail at init.
MAX_GLIBC=2.34

case $(uname -m) in
  x86_64 | amd64) host_arch=x86_64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
  *) host_arch=unknown ;;
esac
ARCHITECTURE=${ARCHITECTURE:-$host_arch}
case $ARCHITECTURE in
  x86_64) rust_target=x86_64-unknown-linux-gnu ;;
  arm64) rust_target=aarch64-unknown-linux-gnu ;;
  *) echo "build: ARCHITECTURE must be x86_64 or arm64 (got '$ARCHITECTURE')" >&2; exit 2 ;;
esac

export CARGO_LAMBDA_COMPILER=cargo
# What ships is compiled by rustc alone (`make test` compiles its tests with clippy as the wrapper).
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS
if [[ $ARCHITECTURE == "$host_arch" ]]; then
  # A native build needs no cross-linker; the glibc check below keeps it within Lambda's glibc.
  unset CARGO_LAMBDA_COMPILER_SUBCOMMAND
  compiler="cargo build"
else
  export CARGO_LAMBDA_COMPILER_SUBCOMMAND=zigbuild
  compiler="cargo zigbuild"
  if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$rust_target"; then
    echo "build: the Rust target $rust_target is missing: rustup target add $rust_target" >&2
    exit 1
  fi
fi

# sam finds cargo-lambda on PATH, cargo finds cargo-zigbuild there, and that finds zig as the venv's
# `python -m ziglang`.
export PATH="$PWD/$VENV/bin:$PATH"
export SAM_CLI_TELEMETRY=0

# `-p PACKAGE` for the package in each function's CodeUri (see the top of this file).
CARGO_LAMBDA_COMPILER_EXTRA_ARGS=$(python - "$TEMPLATE" <<'EOF'
import json, os, subprocess, sys
from samcli.yamlhelper import yaml_parse

with open(sys.argv[1]) as f:
    template = yaml_parse(f.read())
default_uri = template.get("Globals", {}).get("Function", {}).get("CodeUri")
metadata = json.loads(subprocess.check_output(["cargo", "metadata", "--no-deps", "--format-version", "1"]))
by_dir = {os.path.dirname(os.path.realpath(p["manifest_path"])): p["name"] for p in metadata["packages"]}
packages = set()
for name, resource in template.get("Resources", {}).items():
    if resource.get("Type") != "AWS::Serverless::Function":
        continue
    uri = resource.get("Properties", {}).get("CodeUri", default_uri)
    package = by_dir.get(os.path.realpath(str(uri)))
    if package is None:
        sys.exit(f"build: {name}'s CodeUri {uri!r} is not a package of the Cargo workspace")
    packages.add(package)
print(" ".join(f"-p {p}" for p in sorted(packages)))
EOF
)
export CARGO_LAMBDA_COMPILER_EXTRA_ARGS

start=$SECONDS
# Every function in one cargo invocation first: it links two at a time on 2 cores, where sam build's
# one invocation per function links one at a time. Then sam build finds each one built (the same
# cargo-lambda command, packages and flags) and only copies it into place.
arch_flag=()
[[ $ARCHITECTURE != arm64 ]] || arch_flag=(--arm64) # as sam build passes it
echo "build: cargo lambda build --release ${arch_flag[*]} ($rust_target, $compiler $CARGO_LAMBDA_COMPILER_EXTRA_ARGS)" >&2
cargo lambda build --release "${arch_flag[@]}"
echo "build: compiled in $((SECONDS - start)) s; sam build for $ARCHITECTURE" >&2
rm -f "$BUILD_DIR/.built" # until this build has passed its checks
inputs=$(build_inputs) # before the build: a source changed while it runs makes the build stale
sam build --template "$TEMPLATE" --build-dir "$BUILD_DIR" \
  --parameter-overrides "Architecture=$ARCHITECTURE" "$@"
echo "build: compiled and packaged in $((SECONDS - start)) s" >&2

# Every function of the template has a bootstrap of the right architecture, within Lambda's glibc;
# then pin the built template's Architecture parameter (see above).
"$VENV/bin/python" - "$TEMPLATE" "$BUILD_DIR" "$ARCHITECTURE" "$MAX_GLIBC" <<'EOF'
import os, re, sys
from samcli.yamlhelper import yaml_dump, yaml_parse

template, build_dir, arch, max_glibc = sys.argv[1:]
machine = {"x86_64": 62, "arm64": 183}[arch]  # ELF e_machine: EM_X86_64, EM_AARCH64
version = lambda v: tuple(int(p) for p in v.split("."))
with open(template) as f:
    resources = yaml_parse(f.read()).get("Resources", {})
functions = sorted(k for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function")
problems = []
for name in functions:
    path = os.path.join(build_dir, name, "bootstrap")
    if not os.path.isfile(path):
        problems.append(f"{path}: missing")
        continue
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or int.from_bytes(data[18:20], "little") != machine:
        problems.append(f"{path}: not an ELF executable for {arch}")
        continue
    glibc = max((m.decode() for m in set(re.findall(rb"GLIBC_(\d+\.\d+(?:\.\d+)?)", data))), key=version, default="-")
    if glibc != "-" and version(glibc) > version(max_glibc):
        problems.append(f"{path}: needs glibc {glibc}, Lambda's provided.al2023 has {max_glibc}")
    print(f"  {name:28} {len(data) / 2**20:6.1f} MiB  glibc >= {glibc}")
if problems:
    sys.exit("build: FAILED\n  " + "\n  ".join(problems))

built = os.path.join(build_dir, "template.yaml")
with open(built) as f:
    doc = yaml_parse(f.read())
doc["Parameters"]["Architecture"].update(Default=arch, AllowedValues=[arch])
with open(built, "w") as f:
    f.write(yaml_dump(doc))
print(f"build: {len(functions)} bootstraps for {arch} in {build_dir}; {built} deploys them as {arch} only")
EOF
bootstrap_sums "$BUILD_DIR" >&2
# Written last, only when every check above passed: what `scripts/ensure-build.sh` trusts.
echo "$ARCHITECTURE $inputs" >"$BUILD_DIR/.built"
