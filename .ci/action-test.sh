#!/usr/bin/env bash
# Tests action/install.sh against a local HTTP server on 127.0.0.1 serving fake release
# assets (real binaries of this host, packed the way release.yml packs them):
#   right checksum -> installed into the tool cache and runs; a second run is a tool-cache hit
#   wrong checksum -> hard error, nothing installed, no build
#   missing asset / missing release / branch ref / other commit -> the source build path, up
#     to the cargo call (a stub `cargo` on PATH records its arguments)
# plus the platform table, ref parsing and the refusal of plain HTTP to other hosts.
#
# PEW_BIN: a posteverywhere-wait binary for this host. Unset: built here (musl on Linux,
# as .ci/run does; the host target elsewhere). Runs on Linux, macOS (bash 3.2) and Git Bash.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INSTALL="$ROOT/action/install.sh"
TOOL=posteverywhere-wait

# shellcheck source=.ci/lib/check.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/check.sh"
section() { printf '\n-- %s\n' "$*"; }

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
# One fake GitHub: <repo>/releases/download/<tag>/<asset>, under $W/srv.
#   good/       every asset, correct SHA256SUMS, COMMIT
#   badsum/     every asset, SHA256SUMS with a wrong hash for each
#   noasset/    SHA256SUMS lists every asset, but no asset file is there
#   (anything else: 404)
GOOD_COMMIT=0123456789abcdef0123456789abcdef01234567
OTHER_COMMIT=89abcdef0123456789abcdef0123456789abcdef
TARGETS="x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc"
# shellcheck disable=SC2086 # one argument per target
"$PY" - "$W/srv" "v$VERSION" "$BIN" "$GOOD_COMMIT" $TARGETS <<'PY'
import hashlib, io, os, sys, tarfile, zipfile
srv, tag, binary, commit, targets = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
data = open(binary, "rb").read()
def pack(target):
    if "windows" in target:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo("posteverywhere-wait.exe")
            info.external_attr = 0o755 << 16
            z.writestr(info, data)
        return "posteverywhere-wait-%s.zip" % target, buf.getvalue()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("posteverywhere-wait")
        info.size, info.mode = len(data), 0o755
        t.addfile(info, io.BytesIO(data))
    return "posteverywhere-wait-%s.tar.gz" % target, buf.getvalue()
assets = [pack(t) for t in targets]
for repo, wrong, with_assets in (("good", False, True), ("badsum", True, True), ("noasset", False, False)):
    d = os.path.join(srv, repo, "releases", "download", tag)
    os.makedirs(d)
    lines = []
    for name, blob in assets:
        h = hashlib.sha256(blob + (b"tampered" if wrong else b"")).hexdigest()
        lines.append("%s  %s\n" % (h, name))
        if with_assets:
            open(os.path.join(d, name), "wb").write(blob)
    open(os.path.join(d, "SHA256SUMS"), "w", newline="\n").write("".join(lines))
    open(os.path.join(d, "COMMIT"), "w", newline="\n").write(commit + "\n")
PY

# A static file server on 127.0.0.1 (random port) that logs each request path.
cat >"$W/server.py" <<'PY'
import functools, http.server, sys
root, port_file, log_file = sys.argv[1], sys.argv[2], sys.argv[3]
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(log_file, "a") as f:
            f.write(self.path + "\n")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os; os.replace(port_file + ".tmp", port_file)
server.serve_forever()
PY
: >"$W/requests.log"
"$PY" "$W/server.py" "$W/srv" "$W/port" "$W/requests.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  [ -s "$W/port" ] && break
  sleep 0.1
done
PORT=$(cat "$W/port")
SRV="http://127.0.0.1:$PORT"
echo "fake release server: $SRV"

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
  if env PATH="$W/stub:$PATH" RUNNER_OS="$HOST_OS" RUNNER_ARCH="$HOST_ARCH" \
    RUNNER_TEMP="$W/$name.tmp" RUNNER_TOOL_CACHE="$W/$name.tc" GITHUB_OUTPUT="$W/$name.output" \
    PEW_ACTION_REF= PEW_ACTION_REPOSITORY= GITHUB_ACTION_PATH= POSTEVERYWHERE_WAIT_DOWNLOAD_URL= \
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

# ---------------------------------------------------------------- pure functions
section "platform table and ref parsing (functions of install.sh)"
f=$fails
fn() { bash -c '. "$1"; shift; "$@"' _ "$INSTALL" "$@"; }
for row in "Linux X64 x86_64-unknown-linux-musl" "Linux ARM64 aarch64-unknown-linux-musl" \
  "macOS X64 x86_64-apple-darwin" "macOS ARM64 aarch64-apple-darwin" \
  "Windows X64 x86_64-pc-windows-msvc" "Windows ARM64 x86_64-pc-windows-msvc"; do
  # shellcheck disable=SC2086 # split the row into its words
  set -- $row
  check "$1/$2 -> $3" same "$(fn pew_target "$1" "$2")" "$3"
done
check "Linux/ARM (32-bit) has no asset" eval '! fn pew_target Linux ARM >/dev/null'
check "asset name for Linux x64" same "$(fn pew_asset x86_64-unknown-linux-musl)" "$TOOL-x86_64-unknown-linux-musl.tar.gz"
check "asset name for Windows" same "$(fn pew_asset x86_64-pc-windows-msvc)" "$TOOL-x86_64-pc-windows-msvc.zip"
check "Cargo.toml version is read from [package]" same "$(fn pew_cargo_version "$ROOT/Cargo.toml")" "$VERSION"
for yes in "v1.2.3 1.2.3" "v1 1.2.3" "v1.2 1.2.3" "v1.2.0-rc.1 1.2.0-rc.1"; do
  # shellcheck disable=SC2086
  set -- $yes
  check "ref $1 is a release of $2" fn pew_ref_is_release "$1" "$2"
done
for no in "v2 1.2.3" "v1.3 1.2.3" "main 1.2.3" "v1. 1.2.3" "1.2.3 1.2.3" "v11 1.2.3" "v1.2.3-x 1.2.3"; do
  # shellcheck disable=SC2086
  set -- $no
  check "ref $1 is not a release of $2" eval "! fn pew_ref_is_release $1 $2"
done
check "40-hex ref is a commit" fn pew_is_sha "$GOOD_COMMIT"
check "short hex is not a commit" eval '! fn pew_is_sha 0123abc'

# ---------------------------------------------------------------- release, right checksum
section "release tag, right checksum: downloaded, verified, cached, runs"
f=$fails
run_install release PEW_ACTION_REF="v$VERSION" PEW_ACTION_REPOSITORY=posteverywhere-wait/posteverywhere-wait \
  GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
CACHED="$W/release.tc/$TOOL/$VERSION/$LABEL/$EXE"
check "exit 0" is_zero "$(rc_of release)"
check "source=release" same "$(output_of release source)" release
check "path is in the tool cache" same "$(output_of release path)" "$CACHED"
check "tool cache entry marked complete" test -f "$W/release.tc/$TOOL/$VERSION/$LABEL.complete"
check "fetched SHA256SUMS" requested "/good/releases/download/v$VERSION/SHA256SUMS"
check "fetched $ASSET" requested "/good/releases/download/v$VERSION/$ASSET"
check "no cargo build" cargo_not_called
check "the installed binary runs a simulated wait" runs_simulation "$CACHED"
show "$f" release

section "tool cache hit: no network, no build"
f=$fails
run_install release PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="http://127.0.0.1:9/unreachable"
check "exit 0" is_zero "$(rc_of release)"
check "source=tool-cache" same "$(output_of release source)" tool-cache
check "same path" same "$(output_of release path)" "$CACHED"
check "no request" no_requests
check "no cargo build" cargo_not_called
show "$f" release

section "moving major tag v$MAJOR, ref read from the action path (github.action_ref empty)"
f=$fails
run_install major GITHUB_ACTION_PATH="$(action_dir "v$MAJOR")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
check "exit 0" is_zero "$(rc_of major)"
check "source=release" same "$(output_of major source)" release
check "downloaded the v$VERSION release" requested "/good/releases/download/v$VERSION/$ASSET"
show "$f" major

if [ "$HOST_OS" != Windows ] && command -v unzip >/dev/null 2>&1; then
  section "Windows asset (.zip with .exe) on this host"
  f=$fails
  run_install winzip PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
    RUNNER_OS=Windows RUNNER_ARCH=X64 POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
  check "exit 0" is_zero "$(rc_of winzip)"
  check "fetched the .zip" requested "$TOOL-x86_64-pc-windows-msvc.zip"
  check "installed $TOOL.exe" same "$(output_of winzip path)" "$W/winzip.tc/$TOOL/$VERSION/x64/$TOOL.exe"
  show "$f" winzip
fi

section "pinned to the release commit: release used; another commit: source build"
f=$fails
run_install commit PEW_ACTION_REF="$GOOD_COMMIT" GITHUB_ACTION_PATH="$(action_dir "$GOOD_COMMIT")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
check "release commit: exit 0" is_zero "$(rc_of commit)"
check "release commit: source=release" same "$(output_of commit source)" release
check "release commit: COMMIT checked" requested "/good/releases/download/v$VERSION/COMMIT"
run_install other PEW_ACTION_REF="$OTHER_COMMIT" GITHUB_ACTION_PATH="$(action_dir "$OTHER_COMMIT")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
check "other commit: exit 0" is_zero "$(rc_of other)"
check "other commit: source=source-build" same "$(output_of other source)" source-build
check "other commit: asset not downloaded" eval "! requested $ASSET"
check "other commit: cargo called" cargo_called
show "$f" other

# ---------------------------------------------------------------- wrong checksum
section "release tag, wrong checksum: hard error"
f=$fails
run_install badsum PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/badsum/releases/download"
check "exit non-zero" is_not_zero "$(rc_of badsum)"
check "::error names the checksum mismatch" stderr_has badsum "::error title=$TOOL::checksum mismatch for $ASSET"
check "nothing installed" test ! -e "$W/badsum.tc/$TOOL/$VERSION/$LABEL.complete"
check "no path output" same "$(output_of badsum path)" ""
check "no fallback to a source build" cargo_not_called
show "$f" badsum

# ---------------------------------------------------------------- source build paths
section "release without this platform's asset: source build up to cargo"
f=$fails
SRC=$(action_dir "v$VERSION")
run_install noasset PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$SRC" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/noasset/releases/download"
check "exit 0" is_zero "$(rc_of noasset)"
check "asked for the asset" requested "/noasset/releases/download/v$VERSION/$ASSET"
check "slow-path notice" stderr_has noasset "::notice title=$TOOL::No release binary for this ref"
check "cargo build --release --locked of the action's source" same "$(cat "$W/cargo.log" 2>/dev/null)" \
  "build --release --locked --manifest-path $SRC/Cargo.toml --target-dir $W/noasset.tmp/$TOOL-build"
check "source=source-build" same "$(output_of noasset source)" source-build
check "path is cargo's output" same "$(output_of noasset path)" "$W/noasset.tmp/$TOOL-build/release/$EXE"
check "the built binary runs" runs_simulation "$(output_of noasset path)"
check "nothing put in the tool cache" test ! -e "$W/noasset.tc/$TOOL"
show "$f" noasset

section "no release for the tag at all: source build"
f=$fails
run_install norelease PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/missing/releases/download"
check "exit 0" is_zero "$(rc_of norelease)"
check "looked for SHA256SUMS" requested "/missing/releases/download/v$VERSION/SHA256SUMS"
check "source=source-build" same "$(output_of norelease source)" source-build
check "cargo called" cargo_called
show "$f" norelease

section "branch ref and local action (uses: ./): source build without any download"
f=$fails
run_install branch PEW_ACTION_REF=main GITHUB_ACTION_PATH="$(action_dir main)" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
check "branch: exit 0" is_zero "$(rc_of branch)"
check "branch: no request" no_requests
check "branch: cargo called" cargo_called
run_install local GITHUB_ACTION_PATH="$LOCAL_ACTION" POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
check "local: exit 0" is_zero "$(rc_of local)"
check "local: no request" no_requests
check "local: source=source-build" same "$(output_of local source)" source-build
show "$f" local

section "source build without cargo: clear error"
f=$fails
NOCARGO_PATH=""
OLDIFS=$IFS
IFS=:
for d in $PATH; do
  [ -x "$d/cargo" ] || [ -x "$d/cargo.exe" ] || NOCARGO_PATH="$NOCARGO_PATH${NOCARGO_PATH:+:}$d"
done
IFS=$OLDIFS
mkdir -p "$W/emptyhome"
rc=0
env PATH="$NOCARGO_PATH" HOME="$W/emptyhome" CARGO_HOME="$W/emptyhome" RUNNER_OS="$HOST_OS" RUNNER_ARCH="$HOST_ARCH" \
  RUNNER_TEMP="$W/nocargo.tmp" RUNNER_TOOL_CACHE= GITHUB_OUTPUT= PEW_ACTION_REF=main PEW_ACTION_REPOSITORY= \
  GITHUB_ACTION_PATH="$(action_dir main)" bash "$INSTALL" >"$W/nocargo.out" 2>"$W/nocargo.err" || rc=$?
check "exit non-zero" is_not_zero "$rc"
check "says cargo is not installed" stderr_has nocargo "cargo is not installed"
show "$f" nocargo

section "plain HTTP to another host is refused before any request"
f=$fails
run_install plainhttp PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="http://downloads.example.invalid/releases"
check "exit non-zero" is_not_zero "$(rc_of plainhttp)"
check "says why" stderr_has plainhttp "refusing to download over plain HTTP"
check "no build" cargo_not_called
show "$f" plainhttp

printf '\naction-test: %d passed, %d failed\n' "$passes" "$fails"
[ "$fails" -eq 0 ]
