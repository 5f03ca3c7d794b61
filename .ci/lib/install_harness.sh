# The harness of .ci/action-test.sh (sourced by it after ROOT, INSTALL, TOOL and check.sh):
# the binary under test, fake releases served over http and https on 127.0.0.1 by
# .ci/lib/release_server.py, a stub cargo, run_install (install.sh in a sealed environment,
# PATH = the stub + $MODE_PATH) and the predicates the checks use.
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables shared with action-test.sh and check.sh

# ---------------------------------------------------------------- the binary under test
BIN=${PEW_BIN:-}
if [ -z "$BIN" ]; then
  if [ "$(uname -s)" = Linux ]; then
    (cd "$ROOT" && cargo build --release --locked --target x86_64-unknown-linux-musl)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/x86_64-unknown-linux-musl/release/$TOOL"
  else
    (cd "$ROOT" && cargo build --release --locked)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/$TOOL"
    [ -f "$BIN.exe" ] && BIN="$BIN.exe"
  fi
fi
[ -x "$BIN" ] || {
  echo "no binary at $BIN" >&2
  exit 1
}
VERSION=$("$BIN" --version | awk '{print $2}')
MAJOR=${VERSION%%.*}
echo "binary: $BIN ($TOOL $VERSION)"

PY=""
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys' >/dev/null 2>&1; then
    PY=$p
    break
  fi
done
[ -n "$PY" ] || {
  echo "python3 is needed for the test server" >&2
  exit 1
}

W=$(mktemp -d "${TMPDIR:-/tmp}/pew-action-test.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT

# Which platform is this host, in the runner's words?
case "$(uname -s)" in
  Linux) HOST_OS=Linux ;;
  Darwin) HOST_OS=macOS ;;
  MINGW* | MSYS* | CYGWIN*) HOST_OS=Windows ;;
  *) HOST_OS=$(uname -s) ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) HOST_ARCH=X64 ;;
  aarch64 | arm64) HOST_ARCH=ARM64 ;;
  *) HOST_ARCH=$(uname -m) ;;
esac

# ---------------------------------------------------------------- fake releases
GOOD_COMMIT=0123456789abcdef0123456789abcdef01234567
OTHER_COMMIT=89abcdef0123456789abcdef0123456789abcdef
TARGETS="x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc"
SERVER_PY="$ROOT/.ci/lib/release_server.py"
# shellcheck disable=SC2086 # one argument per target
"$PY" "$SERVER_PY" make "$W/srv" "v$VERSION" "$BIN" "$GOOD_COMMIT" $TARGETS

# A private CA and a certificate for 127.0.0.1, for the server's https port.
command -v openssl >/dev/null 2>&1 || {
  echo "openssl is needed for the https test server" >&2
  exit 1
}
mkdir "$W/tls"
(
  cd "$W/tls" || exit 1
  export MSYS_NO_PATHCONV=1 # Git Bash would turn -subj "/CN=…" into a Windows path
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Action Test CA"
  openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >ext.cnf
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf
) >/dev/null 2>&1
printf 'ca_certificate = %s\n' "$W/tls/ca.pem" >"$W/tls/wgetrc"

: >"$W/requests.log"
"$PY" "$SERVER_PY" serve "$W/srv" "$W/port" "$W/requests.log" "$W/tls/srv.pem" "$W/tls/srv.key" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [ -s "$W/port" ] && break
  sleep 0.1
done
read -r PORT TLS_PORT <"$W/port"
SRV="http://127.0.0.1:$PORT"
TLS_SRV="https://127.0.0.1:$TLS_PORT"
echo "fake release server: $SRV and $TLS_SRV"

# The action's checkout, where the runner puts it: <work>/_actions/<owner>/<repo>/<ref>.
action_dir() { # action_dir REF -> a fresh checkout holding Cargo.toml and Cargo.lock
  local d="$W/runner/_actions/posteverywhere-wait/posteverywhere-wait/$1"
  mkdir -p "$d"
  cp "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" "$d/"
  printf '%s' "$d"
}
LOCAL_ACTION="$W/runner/repo"
mkdir -p "$LOCAL_ACTION"
cp "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" "$LOCAL_ACTION/"

# A stub cargo that records its arguments and "builds" by copying the binary under test.
mkdir -p "$W/stub"
cat >"$W/stub/cargo" <<EOF
#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "\$*" >>"$W/cargo.log"
target_dir=""
while [ \$# -gt 0 ]; do
  if [ "\$1" = --target-dir ]; then target_dir=\$2; fi
  shift
done
mkdir -p "\$target_dir/release"
case "$BIN" in
  *.exe) cp "$BIN" "\$target_dir/release/$TOOL.exe" ;;
  *) cp "$BIN" "\$target_dir/release/$TOOL" ;;
esac
EOF
chmod +x "$W/stub/cargo"

# run_install NAME [VAR=value...]: runs install.sh in a clean environment of its own.
# Leaves $W/NAME.{out,err,rc,output}; the tool cache is $W/NAME.tc unless TC is passed.
run_install() {
  local name=$1 rc
  shift
  mkdir -p "$W/$name.tmp" "$W/$name.tc"
  : >"$W/$name.output"
  : >"$W/requests.log"
  rm -f "$W/cargo.log"
  if env PATH="$W/stub:$MODE_PATH" RUNNER_OS="$HOST_OS" RUNNER_ARCH="$HOST_ARCH" \
    RUNNER_TEMP="$W/$name.tmp" RUNNER_TOOL_CACHE="$W/$name.tc" GITHUB_OUTPUT="$W/$name.output" \
    PEW_ACTION_REF= PEW_ACTION_REPOSITORY= GITHUB_ACTION_PATH= POSTEVERYWHERE_WAIT_DOWNLOAD_URL= \
    CURL_CA_BUNDLE="$W/tls/ca.pem" WGETRC="$W/tls/wgetrc" PEW_RETRY_DELAY=0 \
    "$@" bash "$INSTALL" >"$W/$name.out" 2>"$W/$name.err"; then
    rc=0
  else
    rc=$?
  fi
  echo "$rc" >"$W/$name.rc"
}
rc_of() { cat "$W/$1.rc"; }
output_of() { sed -n "s/^$2=//p" "$W/$1.output"; }
stderr_has() { grep -qF -- "$2" "$W/$1.err"; }
requested() { grep -qF -- "$1" "$W/requests.log"; }
times_requested() { grep -cF -- "$1" "$W/requests.log" || true; }
no_requests() { [ ! -s "$W/requests.log" ]; }
cargo_called() { [ -s "$W/cargo.log" ]; }
cargo_not_called() { [ ! -e "$W/cargo.log" ]; }
is_zero() { [ "$1" = 0 ]; }
is_not_zero() { [ "$1" != 0 ]; }
same() { [ "$1" = "$2" ]; }
runs_simulation() { # the installed binary runs a whole (simulated) wait
  env -u GITHUB_ACTIONS -u GITHUB_OUTPUT -u GITHUB_STEP_SUMMARY POSTEVERYWHERE_SIMULATE=published POSTEVERYWHERE_SUMMARY=false "$1" >/dev/null 2>&1
}
show() { # on failure, show what the script said
  if [ "$fails" -gt "$1" ]; then
    echo "  --- stderr of $2:"
    sed 's/^/  | /' "$W/$2.err"
  fi
}

# Triple of this host, and label in the tool cache
ASSET_TARGET=$(bash -c '. "$1"; pew_target "$2" "$3"' _ "$INSTALL" "$HOST_OS" "$HOST_ARCH")
case "$ASSET_TARGET" in x86_64-*) LABEL=x64 ;; *) LABEL=arm64 ;; esac
EXE=$TOOL
[ "$HOST_OS" = Windows ] && EXE=$TOOL.exe
ASSET=$(bash -c '. "$1"; pew_asset "$2"' _ "$INSTALL" "$ASSET_TARGET")

# A port nothing listens on (bound, then closed).
CLOSED_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The PATH for each downloader: curl: this host's; gnu-wget: this host's without curl (a
# directory of links to everything else); busybox: busybox's applets and bash, nothing else.
path_without() { # path_without NAME... -> a directory of links to this PATH but NAMEs
  local d farm
  farm="$W/path-without-$(printf '%s-' "$@")"
  mkdir -p "$farm"
  (
    IFS=:
    for d in $PATH; do
      # Links to every file of each directory; the first directory on PATH wins a name.
      [ -d "$d" ] && ln -s "$d"/* "$farm/" 2>/dev/null || true
    done
  )
  for d in "$@"; do rm -f "$farm/$d"; done
  printf '%s' "$farm"
}
busybox_path() {
  local bb="$W/path-busybox"
  mkdir -p "$bb"
  busybox --install -s "$bb"
  ln -sf "$(command -v bash)" "$bb/bash"
  printf '%s' "$bb"
}
