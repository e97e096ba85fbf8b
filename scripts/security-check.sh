#!/usr/bin/env bash
# `make security-check` (part of `make test`): checkov on template.yaml and deploy/account.yaml must
# find no failed check, and every check the templates skip (Metadata.checkov.skip) must say why.
# checkov lives in its own venv (.venv-checkov): its many pinned dependencies (boto3 among them)
# would fight the SAM CLI's in .venv. Prints one line with the counts.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
VENV=.venv-checkov
STAMP=$VENV/.installed-checkov-$CHECKOV_VERSION
TEMPLATES=(template.yaml deploy/account.yaml)

if [[ ! -f $STAMP ]]; then
  echo "security-check: installing checkov==$CHECKOV_VERSION into $VENV ..." >&2
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  touch "$STAMP"
fi
[[ ${1:-} != --install-only ]] || exit 0 # make test installs it while cargo compiles

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# checkov's parsers keep a grammar cache in the temp dir: it goes with $work.
export TMPDIR=$work
report=$work/report.json
args=()
for t in "${TEMPLATES[@]}"; do args+=(-f "$t"); done
# checkov exits 1 on a failed check; the summary below says which. --skip-download: it runs offline.
if ! "$VENV/bin/checkov" --framework cloudformation "${args[@]}" --output json --quiet --skip-download \
  >"$report" 2>"$report.log"; then
  [[ -s $report ]] || { cat "$report.log" >&2; exit 1; }
fi

"$VENV/bin/python" - "$report" "${TEMPLATES[@]}" <<'PY'
import json, sys, yaml

class Loader(yaml.SafeLoader):
    pass
# CloudFormation's short forms (!Ref, !Sub, ...) as plain values.
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)

report, templates = sys.argv[1], sys.argv[2:]
with open(report) as f:
    data = json.load(f)
results = data if isinstance(data, list) else [data]
passed = failed = skipped = 0
problems = []
for r in results:
    summary = r.get("summary", {})
    passed += summary.get("passed", 0)
    failed += summary.get("failed", 0)
    skipped += summary.get("skipped", 0)
    for check in r.get("results", {}).get("failed_checks", []):
        problems.append(f"{check['file_path']}: {check['resource']}: {check['check_id']} {check['check_name']}")
for t in templates:
    with open(t) as f:
        doc = yaml.load(f, Loader=Loader)
    for name, resource in (doc.get("Resources") or {}).items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            if not str(skip.get("comment", "")).strip():
                problems.append(f"{t}: {name}: skip of {skip.get('id')} gives no reason")
if problems:
    print("security-check: FAIL\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"security-check: checkov {passed} passed, {failed} failed, {skipped} skipped (each with its reason in the template)")
PY
