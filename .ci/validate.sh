#!/usr/bin/env bash
# Lints the shipping files and keeps action.yml honest:
#   actionlint (with shellcheck on PATH: also the run: scripts) on .github/workflows
#   check-jsonschema: action.yml (vendor.github-actions), workflows (vendor.github-workflows)
#   zizmor --offline: workflows and action.yml
#   hadolint: Dockerfile
#   the scripts (action/install.sh, .ci/*.sh): shellcheck
#   action.yml inputs == the inputs of `posteverywhere-wait --help` (none has a default there:
#     each description gives the binary's, so the environment's POSTEVERYWHERE_<NAME> applies; each is
#     passed to the binary), outputs == the README's Outputs table (each mapped from the step)
# Tools are expected on PATH (ship.sh installs them). PEW_BIN: the binary whose --help is the
# reference; unset: built with cargo into the default target dir.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

failed=""
step() {
  local name=$1
  shift
  printf '\n-- %s\n' "$name"
  if "$@"; then
    printf '   ok: %s\n' "$name"
  else
    printf '   FAILED: %s\n' "$name"
    failed="$failed
  - $name"
  fi
}

BIN=${PEW_BIN:-}
if [ -z "$BIN" ]; then
  cargo build --release --locked --target x86_64-unknown-linux-musl
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/x86_64-unknown-linux-musl/release/posteverywhere-wait"
fi

step "actionlint" actionlint -oneline
step "check-jsonschema action.yml" check-jsonschema --builtin-schema vendor.github-actions action.yml
step "check-jsonschema workflows" check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
step "zizmor --offline" zizmor --offline --no-progress .
step "hadolint" hadolint Dockerfile
step "shellcheck" shellcheck -x action/install.sh action/fetch.sh .ci/run .ci/validate.sh .ci/action-test.sh .ci/container-test.sh .ci/image-test.sh .ci/ship.sh .ci/platforms.sh .ci/lib/check.sh .ci/lib/musl_bin.sh .ci/lib/install_harness.sh scripts/summary-picture.sh

consistency() {
  "$BIN" --help >"${TMPDIR:-/tmp}/pew-help.$$"
  python3 - "${TMPDIR:-/tmp}/pew-help.$$" action.yml README.md <<'PY'
import re, sys
from ruamel.yaml import YAML

help_text = open(sys.argv[1], encoding="utf-8").read()
action = YAML(typ="safe").load(open(sys.argv[2], encoding="utf-8"))
readme = open(sys.argv[3], encoding="utf-8").read()
errors = []

# --help: "    name   text [default: x]" lines between INPUTS and the next blank line.
help_inputs = {}
block = help_text.split("\nINPUTS", 1)[1].split("\n\n", 1)[0]
entries = []  # (name, text), continuation lines (indented further, not "env:") joined
for line in block.splitlines()[1:]:
    m = re.match(r"^    ([a-z][a-z0-9-]*)\s+(.*)$", line)
    if m:
        entries.append([m.group(1), m.group(2)])
    elif entries and line.startswith("      ") and not line.strip().startswith("env:"):
        entries[-1][1] += " " + line.strip()
for name, text in entries:
    d = re.search(r"\[default: (.*)\]\s*$", text)
    help_inputs[name] = d.group(1) if d else ""
if not help_inputs:
    errors.append("no inputs found in --help")

inputs = action.get("inputs") or {}
for name in sorted(set(help_inputs) - set(inputs)):
    errors.append("input %r is in --help but not in action.yml" % name)
for name in sorted(set(inputs) - set(help_inputs)):
    errors.append("input %r is in action.yml but not in --help" % name)
for name, spec in inputs.items():
    if name not in help_inputs:
        continue
    want = help_inputs[name]
    if "default" in spec:
        # The runner would hand the binary the default for an input left out, hiding
        # POSTEVERYWHERE_<NAME> in the job's environment (a dry run set there posted for real).
        errors.append("input %r: a default in action.yml (%r) would hide POSTEVERYWHERE_%s from the job's "
                      "environment; leave it empty and say 'Default %s' in its description"
                      % (name, spec["default"], name.upper().replace("-", "_"), want))
    elif want and ("Default %s" % want) not in spec.get("description", ""):
        errors.append("input %r: its description must say 'Default %s' (the binary's, from --help)" % (name, want))
    if spec.get("required") is True:
        errors.append("input %r: required: true would contradict simulate (and is not enforced)" % name)

# Every input reaches the binary, by the INPUT_<NAME_SNAKE> it reads.
steps = action["runs"]["steps"]
wait = [s for s in steps if s.get("id") == "wait"]
if len(wait) != 1:
    errors.append("runs.steps needs exactly one step with id: wait")
else:
    env = wait[0].get("env") or {}
    want_env = {"INPUT_" + n.upper().replace("-", "_"): "${{ inputs.%s }}" % n for n in inputs}
    got_env = {k: v for k, v in env.items() if k.startswith("INPUT_")}
    for k in sorted(set(want_env) | set(got_env)):
        if want_env.get(k) != got_env.get(k):
            errors.append("step wait env %s: %r, expected %r" % (k, got_env.get(k), want_env.get(k)))

# README "## Outputs" table: first cell holds one or more `names`.
section = readme.split("\n## Outputs", 1)
readme_outputs = []
if len(section) == 2:
    for line in section[1].split("\n## ", 1)[0].splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            first = line.split("|")[1]
            readme_outputs += re.findall(r"`([^`]+)`", first)
if not readme_outputs:
    errors.append("no outputs found in README's '## Outputs' table")
# README "## Inputs" table: every input, by its backticked name in the first cell.
section = readme.split("\n## Inputs", 1)
readme_inputs = []
if len(section) == 2:
    for line in section[1].split("\n## ", 1)[0].splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*-", line):
            readme_inputs += re.findall(r"`([^`]+)`", line.split("|")[1])
for name in sorted(set(inputs) - set(readme_inputs)):
    errors.append("input %r is in action.yml but not in README's Inputs table" % name)
for name in sorted(set(readme_inputs) - set(inputs)):
    errors.append("input %r is in README's Inputs table but not in action.yml" % name)

outputs = action.get("outputs") or {}
for name in sorted(set(readme_outputs) - set(outputs)):
    errors.append("output %r is in README but not in action.yml" % name)
for name in sorted(set(outputs) - set(readme_outputs)):
    errors.append("output %r is in action.yml but not in README" % name)
for name, spec in outputs.items():
    if spec.get("value") != "${{ steps.wait.outputs.%s }}" % name:
        errors.append("output %r: value %r is not ${{ steps.wait.outputs.%s }}" % (name, spec.get("value"), name))

if len(action.get("description", "")) > 125:
    errors.append("description is over 125 characters (the Marketplace cuts it)")

for e in errors:
    print("   " + e)
print("   %d inputs match --help and README, %d outputs match README" % (len(help_inputs), len(readme_outputs))
      if not errors else "   %d problem(s)" % len(errors))
sys.exit(1 if errors else 0)
PY
  local rc=$?
  rm -f "${TMPDIR:-/tmp}/pew-help.$$"
  return $rc
}
step "action.yml inputs/outputs vs --help and README" consistency

if [ -n "$failed" ]; then
  printf '\nvalidate: failed:%s\n' "$failed"
  exit 1
fi
printf '\nvalidate: all checks passed\n'
