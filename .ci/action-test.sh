#!/usr/bin/env bash
# Tests action/install.sh against a fake release server on 127.0.0.1 (.ci/lib/release_server.py:
# real binaries of this host, packed the way release.yml packs them), once per downloader
# the host has: curl, GNU wget (curl hidden), busybox wget (only busybox applets and bash
# on PATH, as in an alpine + bash container):
#   right checksum -> installed into the tool cache and runs; a second run is a tool-cache hit
#   wrong checksum -> hard error, nothing installed, no build
#   missing asset / missing release / other commit -> the source build path, up to the cargo
#     call (a stub `cargo` on PATH records its arguments)
#   a redirect to https is followed; one to plain http is refused (curl and GNU wget never
#     send it); HTTP 500 and an unreachable server are hard errors after 3 tries, not a
#     source build; a 503 once is retried
# and once: the platform table, ref and redirect parsing, branch refs and local actions,
# no cargo, and the refusal of plain HTTP to other hosts.
#
# PEW_BIN: a posteverywhere-wait binary for this host. Unset: built here (musl on Linux,
# as .ci/run does; the host target elsewhere). PEW_DOWNLOADERS: the downloaders to test
# (default: every one of curl, gnu-wget, busybox this host has). PEW_TLS_CHECKS=required:
# fail, rather than skip with a note, when a downloader cannot be given the test CA (e.g. a
# busybox whose ssl_client verifies against the system store only). Needs python3, openssl.
# Runs on Linux, macOS (bash 3.2) and Git Bash.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INSTALL="$ROOT/action/install.sh"
TOOL=posteverywhere-wait

# shellcheck source=.ci/lib/check.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/check.sh"
section() { printf '\n-- %s\n' "$*"; }

# shellcheck source=.ci/lib/install_harness.sh
. "$ROOT/.ci/lib/install_harness.sh"

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

# ---------------------------------------------------------------- with each downloader
tls_usable() { # can $MODE's downloader fetch from the https port, trusting the test CA?
  local url="$TLS_SRV/good/releases/download/v$VERSION/COMMIT"
  case "$MODE" in
    curl) env CURL_CA_BUNDLE="$W/tls/ca.pem" curl -sSf -o /dev/null "$url" ;;
    gnu-wget) env WGETRC="$W/tls/wgetrc" wget -q -O /dev/null "$url" ;;
    busybox) env -i PATH="$MODE_PATH" wget -q -O /dev/null "$url" 2>/dev/null ;;
  esac
}

# The paths that download, run with the downloader $MODE (PATH: $MODE_PATH).
downloads() {
  # --- release, right checksum
  section "$MODE: release tag, right checksum: downloaded, verified, cached, runs"
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

  section "$MODE: tool cache hit: no network, no build"
  f=$fails
  run_install release PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
    POSTEVERYWHERE_WAIT_DOWNLOAD_URL="http://127.0.0.1:9/unreachable"
  check "exit 0" is_zero "$(rc_of release)"
  check "source=tool-cache" same "$(output_of release source)" tool-cache
  check "same path" same "$(output_of release path)" "$CACHED"
  check "no request" no_requests
  check "no cargo build" cargo_not_called
  show "$f" release

  section "$MODE: moving major tag v$MAJOR, ref read from the action path (github.action_ref empty)"
  f=$fails
  run_install major GITHUB_ACTION_PATH="$(action_dir "v$MAJOR")" \
    POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
  check "exit 0" is_zero "$(rc_of major)"
  check "source=release" same "$(output_of major source)" release
  check "downloaded the v$VERSION release" requested "/good/releases/download/v$VERSION/$ASSET"
  show "$f" major

  if [ "$HOST_OS" != Windows ] && command -v unzip >/dev/null 2>&1; then
    section "$MODE: Windows asset (.zip with .exe) on this host"
    f=$fails
    run_install winzip PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
      RUNNER_OS=Windows RUNNER_ARCH=X64 POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
    check "exit 0" is_zero "$(rc_of winzip)"
    check "fetched the .zip" requested "$TOOL-x86_64-pc-windows-msvc.zip"
    check "installed $TOOL.exe" same "$(output_of winzip path)" "$W/winzip.tc/$TOOL/$VERSION/x64/$TOOL.exe"
    show "$f" winzip
  fi

  section "$MODE: pinned to the release commit: release used; another commit: source build"
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

  # --- wrong checksum
  section "$MODE: release tag, wrong checksum: hard error"
  f=$fails
  run_install badsum PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
    POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/badsum/releases/download"
  check "exit non-zero" is_not_zero "$(rc_of badsum)"
  check "::error names the checksum mismatch" stderr_has badsum "::error title=$TOOL::checksum mismatch for $ASSET"
  check "nothing installed" test ! -e "$W/badsum.tc/$TOOL/$VERSION/$LABEL.complete"
  check "no path output" same "$(output_of badsum path)" ""
  check "no fallback to a source build" cargo_not_called
  show "$f" badsum

  # --- source build paths
  section "$MODE: release without this platform's asset: source build up to cargo"
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

  section "$MODE: no release for the tag at all: source build"
  f=$fails
  run_install norelease PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
    POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/missing/releases/download"
  check "exit 0" is_zero "$(rc_of norelease)"
  check "looked for SHA256SUMS" requested "/missing/releases/download/v$VERSION/SHA256SUMS"
  check "source=source-build" same "$(output_of norelease source)" source-build
  check "cargo called" cargo_called
  show "$f" norelease

  # --- redirects, errors, retries
  if tls_usable; then
    section "$MODE: a redirect to https is followed"
    f=$fails
    run_install tohttps PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
      POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/redirect-https/good/releases/download"
    check "exit 0" is_zero "$(rc_of tohttps)"
    check "source=release" same "$(output_of tohttps source)" release
    check "$ASSET fetched over https" requested "https /good/releases/download/v$VERSION/$ASSET"
    if [ "$MODE" = busybox ] && env -i PATH="$MODE_PATH" wget -q -O /dev/null "$TLS_SRV/good/releases/download/v$VERSION/COMMIT" 2>&1 |
      grep -q "TLS certificate validation not implemented"; then
      check "this busybox does not verify TLS: a warning says so" stderr_has tohttps "::warning title=$TOOL::This busybox wget does not verify TLS certificates"
    else
      check "no TLS warning" eval "! stderr_has tohttps 'does not verify TLS'"
    fi
    show "$f" tohttps

    section "$MODE: a redirect to plain http is refused"
    f=$fails
    run_install tohttp PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
      POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$TLS_SRV/redirect-http/good/releases/download"
    check "exit non-zero" is_not_zero "$(rc_of tohttp)"
    check "says why" stderr_has tohttp "refusing a redirect to plain HTTP (http://127.0.0.1:$PORT/good/releases/download/v$VERSION/SHA256SUMS)"
    if [ "$MODE" = busybox ]; then
      check "busybox followed it (it cannot be stopped), the download was discarded" stderr_has tohttp "the download was discarded"
    else
      check "the http URL was never requested" eval "! requested 'http /good/'"
    fi
    check "nothing installed, no build" eval "[ ! -e '$W/tohttp.tc/$TOOL' ] && cargo_not_called"
    run_install relhttp PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
      POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/redirect-rel/good/releases/download"
    check "a relative redirect on a plain-http mirror is refused too" stderr_has relhttp "refusing a redirect to plain HTTP"
    show "$f" tohttp
  elif [ "${PEW_TLS_CHECKS:-auto}" = required ]; then
    bad "$MODE cannot fetch from the https test server with the test CA"
  else
    echo "  (https redirect checks skipped: this host's $MODE cannot be given the test CA)"
  fi

  section "$MODE: HTTP 500 and an unreachable server are hard errors (3 tries), not a source build"
  f=$fails
  run_install e500 PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
    POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/status-500/good/releases/download"
  check "500: exit non-zero" is_not_zero "$(rc_of e500)"
  check "500: says HTTP 500" stderr_has e500 "::error title=$TOOL::download failed (HTTP 500)"
  check "500: tried 3 times" same "$(times_requested "/status-500/good/releases/download/v$VERSION/SHA256SUMS")" 3
  check "500: no build" cargo_not_called
  run_install down PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
    POSTEVERYWHERE_WAIT_DOWNLOAD_URL="http://127.0.0.1:$CLOSED_PORT/releases/download"
  check "unreachable: exit non-zero" is_not_zero "$(rc_of down)"
  check "unreachable: says download failed" stderr_has down "::error title=$TOOL::download failed ("
  check "unreachable: retried" same "$(grep -c 'retrying' "$W/down.err")" 2
  check "unreachable: no build" cargo_not_called
  show "$f" e500
  show "$f" down

  section "$MODE: a 503 once is retried"
  f=$fails
  run_install flaky PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
    POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/flaky-$MODE/good/releases/download"
  check "exit 0" is_zero "$(rc_of flaky)"
  check "source=release" same "$(output_of flaky source)" release
  check "$ASSET asked for twice" same "$(times_requested "/flaky-$MODE/good/releases/download/v$VERSION/$ASSET")" 2
  show "$f" flaky
}

MODES=${PEW_DOWNLOADERS:-}
if [ -z "$MODES" ]; then
  command -v curl >/dev/null 2>&1 && MODES="curl"
  case "$(wget --version 2>/dev/null || true)" in "GNU Wget"*) MODES="$MODES gnu-wget" ;; esac
  command -v busybox >/dev/null 2>&1 && MODES="$MODES busybox"
fi
for MODE in $MODES; do
  case "$MODE" in
    curl) MODE_PATH=$PATH ;;
    gnu-wget) MODE_PATH=$(path_without curl) ;;
    busybox) MODE_PATH=$(busybox_path) ;;
    *)
      echo "unknown downloader: $MODE" >&2
      exit 2
      ;;
  esac
  rm -rf "$W"/*.tc "$W"/*.tmp
  downloads
done
MODE_PATH=$PATH

# ---------------------------------------------------------------- no download

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

section "neither curl nor wget: clear error before any download"
f=$fails
MODE_PATH=$(path_without curl wget)
run_install nodl PEW_ACTION_REF="v$VERSION" GITHUB_ACTION_PATH="$(action_dir "v$VERSION")" \
  POSTEVERYWHERE_WAIT_DOWNLOAD_URL="$SRV/good/releases/download"
MODE_PATH=$PATH
check "exit non-zero" is_not_zero "$(rc_of nodl)"
check "says why" stderr_has nodl "::error title=$TOOL::neither curl nor wget is installed"
check "no request, no build" eval "no_requests && cargo_not_called"
show "$f" nodl

printf '\naction-test (downloaders: %s): %d passed, %d failed\n' "${MODES# }" "$passes" "$fails"
[ "$fails" -eq 0 ]
