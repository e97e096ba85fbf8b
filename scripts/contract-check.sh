#!/usr/bin/env bash
# `make contract-check` (first step of `make test`): keeps docs/contract.md tied to what the code does.
#
# - Every rule the contract defines (a bullet starting `- [C-AREA-N]`) must be named by at least one
#   test: a comment `// contract: C-AREA-N` (several ids may share one comment, comma-separated) in
#   a Rust file under tests/, local/tests/, shared/ or functions/, on the line above a `#[test]` or
#   `#[tokio::test]` function or inside it.
# - Such a comment must name only rules the contract defines, a rule is defined once, and every
#   `[C-…]` the contract refers to is defined.
# - No file of the repository (tracked, or new and not ignored) may point at the contract's old
#   location, the file outside the repository it used to live in.
#
# Prints one line with the number of rules checked; on failure, names the ids at fault and exits 1.
# Needs no build and no network: grep only.
set -euo pipefail
cd "$(dirname "$0")/.."

contract=docs/contract.md
# Spelled in two pieces so that this script does not name it itself.
old_name="API"'.md'
test_dirs=(tests local/tests shared functions)

[[ -f $contract ]] || {
  echo "contract-check: $contract is missing" >&2
  exit 1
}

failures=()

# Rule definitions: `- [C-AREA-N] ...` at the start of a bullet.
mapfile -t rules < <(grep -oE '^- \[C-[A-Z]+-[0-9]+\]' "$contract" | sed -E 's/^- \[(.*)\]$/\1/')
if ((${#rules[@]} == 0)); then
  echo "contract-check: no rule ids found in $contract" >&2
  exit 1
fi
declare -A defined=()
for id in "${rules[@]}"; do
  if [[ -n ${defined[$id]:-} ]]; then
    failures+=("$id is defined more than once in $contract")
  fi
  defined[$id]=1
done

# References inside the contract (`see [C-ID-3]`) must name defined rules.
while IFS= read -r ref; do
  [[ -n ${defined[$ref]:-} ]] || failures+=("$contract refers to $ref, which it does not define")
done < <(grep -oE '\[C-[A-Z]+-[0-9]+\]' "$contract" | tr -d '[]' | sort -u)

# Tags in tests: `// contract: C-ERR-1, C-ERR-2`.
declare -A tagged=()
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  comment=${rest#*contract:}
  while IFS= read -r id; do
    [[ -n $id ]] || continue
    tagged[$id]=1
    [[ -n ${defined[$id]:-} ]] || failures+=("$file:$line names $id, which $contract does not define")
  done < <(grep -oE 'C-[A-Z]+-[A-Z0-9]+' <<<"$comment" || true)
done < <(grep -rnE --include='*.rs' '^[[:space:]]*//[[:space:]]*contract:' "${test_dirs[@]}" || true)

untested=()
for id in "${rules[@]}"; do
  [[ -n ${tagged[$id]:-} ]] || untested+=("$id")
done
if ((${#untested[@]} > 0)); then
  failures+=("no test names ${untested[*]} (add \`// contract: <id>\` above a test that asserts it)")
fi

# The contract's old location, anywhere in the repository.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  status=0
  stale=$(git grep -l -I -F --untracked -e "$old_name") || status=$?
  if ((status > 1)); then
    echo "contract-check: git grep failed ($status)" >&2
    exit 1
  fi
else
  stale=$(grep -rlIF --exclude-dir={.git,target,.aws-sam,node_modules,.venv,.local} -e "$old_name" . || true)
fi
while IFS= read -r file; do
  [[ -n $file ]] && failures+=("$file names $old_name; the contract is $contract")
done <<<"$stale"

if ((${#failures[@]} > 0)); then
  printf 'contract-check: %s\n' "${failures[@]}" >&2
  echo "contract-check: ${#defined[@]} rules of $contract checked, ${#failures[@]} problem(s)"
  exit 1
fi
echo "contract-check: ${#defined[@]} rules of $contract checked, each named by a test"
