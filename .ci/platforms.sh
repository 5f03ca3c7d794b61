#!/usr/bin/env bash
# The platforms the README promises beyond this host, proven here with Debian packages and
# rustup targets this script installs (called from .ci/run):
#   arm64    aarch64-unknown-linux-musl, cross-built (aarch64-linux-gnu-gcc compiles ring's C,
#            rust-lld links), run under qemu-user: the unit tests, --version, --demo, and
#            HTTPS against a loopback server whose private CA is given in SSL_CERT_FILE or
#            SSL_CERT_DIR (and refused without it)
#   windows  x86_64-pc-windows-gnu, cross-built with mingw-w64, run under Wine: the unit and
#            integration tests, all of them (none needs skipping under Wine; the tests that
#            send signals with kill(1) or use script(1) are compiled for Unix only). Wine 8
#            (Debian 12) lacks bcryptprimitives.dll: a stand-in is built from
#            .ci/wine/bcryptprimitives.c into the test prefix.
# Prints how long each part took. PEW_PLATFORMS: the parts to run (default: arm64 windows).
# Needs root (or sudo) for apt-get. Runs on Debian/Ubuntu x86_64 only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=never
TOOL=posteverywhere-wait
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
PARTS=${PEW_PLATFORMS:-arm64 windows}
T0=$(date +%s)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

# shellcheck source=.ci/lib/check.sh
. "$ROOT/.ci/lib/check.sh"
step() { printf '\n=== platforms: %s (at %d s)\n' "$*" "$SECONDS"; }
took() { echo "($1: $(($(date +%s) - $2)) s)"; }
same() { [ "$1" = "$2" ]; }
VERSION=$(bash -c '. "$1"; pew_cargo_version "$2"' _ action/install.sh Cargo.toml)

# ---------------------------------------------------------------- tools
step "tools"
t=$(date +%s)
need=""
has() { command -v "$1" >/dev/null 2>&1; }
for part in $PARTS; do
  case "$part" in
    arm64)
      has qemu-aarch64-static || need="$need qemu-user-static"
      has aarch64-linux-gnu-gcc || need="$need gcc-aarch64-linux-gnu libc6-dev-arm64-cross"
      has openssl || need="$need openssl"
      ;;
    windows)
      has x86_64-w64-mingw32-gcc || need="$need gcc-mingw-w64-x86-64-win32"
      has wine64 || need="$need wine wine64"
      ;;
    *)
      echo "unknown part: $part (expected arm64, windows)" >&2
      exit 2
      ;;
  esac
done
if [ -n "$need" ]; then
  echo "apt:$need"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086 # a list of package names
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
for part in $PARTS; do
  case "$part" in
    arm64) target=aarch64-unknown-linux-musl ;;
    windows) target=x86_64-pc-windows-gnu ;;
  esac
  if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target" >/dev/null 2>&1
  fi
done
took tools "$t"

# Sums the "test result" lines of a cargo test log: "<passed> passed, <failed> failed".
test_counts() {
  awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed", p, f }' "$1"
}

# ---------------------------------------------------------------- arm64 under qemu
arm64() {
  local target=aarch64-unknown-linux-musl bin w rc port pid
  export CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc AR_aarch64_unknown_linux_musl=aarch64-linux-gnu-ar
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER=qemu-aarch64-static
  w=$(mktemp -d "${TMPDIR:-/tmp}/pew-arm64.XXXXXX")

  rc=0
  cargo test --locked --target "$target" --bins >"$w/test.log" 2>&1 || rc=$?
  grep -E '^test result:|FAILED|panicked' "$w/test.log" || true
  check "unit tests under qemu-aarch64 ($(test_counts "$w/test.log"))" same "$rc" 0

  cargo build --locked --target "$target"
  bin="$TARGET_DIR/$target/debug/$TOOL"
  check "an AArch64 ELF" eval "aarch64-linux-gnu-readelf -h '$bin' | grep -q 'Machine:.*AArch64'"
  check "statically linked (no program interpreter)" eval "! aarch64-linux-gnu-readelf -l '$bin' | grep -q INTERP"
  check "rust-lld read the layout script (section .text.executed; build.rs)" \
    eval "aarch64-linux-gnu-readelf -SW '$bin' | grep -q ' \.text\.executed '"
  check "--version" same "$(qemu-aarch64-static "$bin" --version)" "$TOOL $VERSION"
  rc=0
  qemu-aarch64-static "$bin" --demo >"$w/demo.out" 2>&1 || rc=$?
  check "--demo exits 1 (its documented outcome: partial)" same "$rc" 1
  check "--demo reports 2/3 published" grep -q "partial — 2/3 published" "$w/demo.out"

  # HTTPS: a loopback server whose certificate a fresh private CA signed.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$w/ca.key" -out "$w/ca.pem" -days 2 \
    -subj "/CN=Platforms Test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$w/srv.key" -out "$w/srv.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$w/ext.cnf"
  openssl x509 -req -in "$w/srv.csr" -CA "$w/ca.pem" -CAkey "$w/ca.key" -CAcreateserial -out "$w/srv.pem" \
    -days 2 -extfile "$w/ext.cnf" 2>/dev/null
  mkdir "$w/cadir"
  cp "$w/ca.pem" "$w/cadir/corp.crt"
  cat >"$w/server.py" <<'PY'
import http.server, json, os, ssl, sys
cert, key, port_file = sys.argv[1:4]
body = json.dumps({"data": {"post_id": "p1", "post_status": "published", "results": [
    {"account_id": 1, "platform": "x", "status": "published", "platform_post_url": "https://x.example/p/1"}]},
    "error": None, "meta": {}}).encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(port_file + ".tmp", port_file)
server.serve_forever()
PY
  python3 "$w/server.py" "$w/srv.pem" "$w/srv.key" "$w/port" &
  pid=$!
  for _ in $(seq 1 100); do
    [ -s "$w/port" ] && break
    sleep 0.1
  done
  port=$(cat "$w/port")
  https_run() { # https_run NAME [VAR=value...]: one wait against the server, under qemu
    local name=$1
    shift
    rc=0
    env -i PATH="$PATH" POSTEVERYWHERE_API_KEY=pe_test_platforms POSTEVERYWHERE_POST_ID=p1 \
      POSTEVERYWHERE_BASE_URL="https://localhost:$port/api/v1" POSTEVERYWHERE_MAX_ERRORS=1 \
      POSTEVERYWHERE_RESULTS_FILE="$w/$name.json" "$@" qemu-aarch64-static "$bin" >"$w/$name.out" 2>&1 || rc=$?
  }
  https_run file SSL_CERT_FILE="$w/ca.pem"
  check "HTTPS, CA in SSL_CERT_FILE: exit 0" same "$rc" 0
  check "HTTPS, CA in SSL_CERT_FILE: status published" grep -q '"status": *"published"' "$w/file.json"
  https_run dir SSL_CERT_DIR="$w/missing:$w/cadir"
  check "HTTPS, CA in SSL_CERT_DIR (second entry): exit 0" same "$rc" 0
  https_run none
  check "HTTPS, CA not given: exit 4" same "$rc" 4
  check "HTTPS, CA not given: the certificate is refused" grep -q "invalid peer certificate: UnknownIssuer" "$w/none.out"
  kill "$pid" 2>/dev/null || true
  if [ "$fails" -gt 0 ]; then sed 's/^/  | /' "$w/test.log" "$w"/*.out | tail -n 60; fi
  rm -rf "$w"
}

# ---------------------------------------------------------------- Windows under Wine
windows() {
  local target=x86_64-pc-windows-gnu sys32 rc w
  mkdir -p "$TARGET_DIR"
  export WINEPREFIX="$TARGET_DIR/pew-wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
  export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine
  w=$(mktemp -d "${TMPDIR:-/tmp}/pew-windows.XXXXXX")
  echo "$(wine --version), prefix $WINEPREFIX"
  if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
    wine wineboot --init >/dev/null 2>&1
    wineserver --wait
  fi
  sys32="$WINEPREFIX/drive_c/windows/system32"
  if [ ! -e "$sys32/bcryptprimitives.dll" ]; then
    echo "this Wine has no bcryptprimitives.dll: building the stand-in (.ci/wine/bcryptprimitives.c)"
    x86_64-w64-mingw32-gcc -shared -O2 -s -o "$sys32/bcryptprimitives.dll" .ci/wine/bcryptprimitives.c -ladvapi32
  fi
  rc=0
  cargo test --locked --target "$target" >"$w/test.log" 2>&1 || rc=$?
  grep -E '^test result:|FAILED|panicked' "$w/test.log" || true
  check "unit and integration tests under Wine ($(test_counts "$w/test.log"))" same "$rc" 0
  if [ "$rc" -ne 0 ]; then tail -n 80 "$w/test.log" | sed 's/^/  | /'; fi
  wineserver --kill 2>/dev/null || true
  rm -rf "$w"
  # Code that only Windows compiles (cfg(windows), tests gated on Unix tools) is linted too.
  rc=0
  cargo clippy --locked --all-targets --target "$target" -- -D warnings >"$w.clippy" 2>&1 || rc=$?
  check "clippy for Windows, tests included" same "$rc" 0
  if [ "$rc" -ne 0 ]; then tail -n 40 "$w.clippy" | sed 's/^/  | /'; fi
  rm -f "$w.clippy"
}

for part in $PARTS; do
  step "$part"
  t=$(date +%s)
  "$part"
  took "$part" "$t"
done

echo
echo "platforms: $(($(date +%s) - T0)) s in all; $passes passed, $fails failed"
[ "$fails" -eq 0 ]
