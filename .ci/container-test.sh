#!/usr/bin/env bash
# Runs the static musl binary in a FROM-scratch test image with podman, the way the GitHub
# runner runs a container action: the /github/* mounts, workdir /github/workspace, INPUT_*
# variables with hyphens (secrets passed by name only, as the runner does), GITHUB_ACTIONS,
# GITHUB_OUTPUT under /github/file_commands, --network host. Against a scripted API on
# 127.0.0.1 it checks:
#   1. a post that publishes: exit 0, every output (parsed like the runner), the summary and
#      results file, the key nowhere in what was written;
#   2. a post that stays pending: `podman kill --signal TERM` ends the container within 2 s
#      with exit 143 and status=cancelled;
#   3. a missing post-id: exit 2;
#   4. HTTPS in this image, which has no CA file at all: a private CA given in SSL_CERT_FILE
#      (mounted) is trusted; without it the certificate is refused (exit 4) before any
#      request, and the client still starts (bundled roots).
# The real Dockerfile is built by image-test.sh (its release path); this image has the
# same entrypoint path. Prints the test image size.
#
# PEW_BIN: the x86_64 musl binary. Unset: built with cargo into the default target dir.
# Needs podman (and runc where podman's defaults cannot run containers: see below).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=posteverywhere-wait

# shellcheck source=.ci/lib/musl_bin.sh
. "$ROOT/.ci/lib/musl_bin.sh"
BIN=$(musl_bin "$ROOT")
[ -x "$BIN" ] || {
  echo "no binary at $BIN" >&2
  exit 1
}

# shellcheck source=.ci/lib/check.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/check.sh"
section() { printf '\n-- %s\n' "$*"; }

W=$(mktemp -d "${TMPDIR:-/tmp}/pew-container-test.XXXXXX")
RUN_ID="$$-$(date +%s)"
IMAGE="localhost/$TOOL-test:$RUN_ID"
PIDS=""
CONTAINERS=""
cleanup() {
  local c p
  for c in $CONTAINERS; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the test image
mkdir -p "$W/image"
cp "$BIN" "$W/image/$TOOL"
cat >"$W/image/Containerfile" <<EOF
FROM scratch
COPY $TOOL /usr/local/bin/$TOOL
ENTRYPOINT ["/usr/local/bin/$TOOL"]
EOF
podman build --quiet --tag "$IMAGE" "$W/image" >/dev/null
# Can podman run containers as configured? If not (on our CI machines: crun fails in hybrid
# cgroup mode and ulimits cannot be raised), use runc and lower ulimits (tooling.md §4).
if ! podman run --rm --network host "$IMAGE" --version >/dev/null 2>&1; then
  cat >"$W/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF="$W/containers.conf"
  echo "podman: using runc and lower ulimits ($CONTAINERS_CONF)"
  podman run --rm --network host "$IMAGE" --version >/dev/null
fi
IMAGE_BYTES=$(podman image inspect --format '{{.Size}}' "$IMAGE")
BIN_BYTES=$(wc -c <"$BIN" | tr -d ' ')

# ---------------------------------------------------------------- the scripted API
cat >"$W/server.py" <<'PY'
# GET /api/v1/posts/42/results: "publish" answers publishing once, then published;
# "pending" always answers publishing. Logs "METHOD PATH auth=ok|bad" per request.
# With CERT and KEY arguments: over TLS.
import http.server, json, ssl, sys
mode, port_file, log_file, key = sys.argv[1:5]
polls = {"n": 0}
def dest(account_id, platform, status):
    done = status == "published"
    return {"id": "d%d" % account_id, "account_id": account_id, "account_name": "Brand",
            "platform": platform, "status": status, "error": None, "attempts": 1,
            "platform_post_url": "https://%s.example/p/%d" % (platform, account_id) if done else None,
            "published_at": "2026-01-01T00:00:00Z" if done else None}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        auth = "ok" if self.headers.get("Authorization") == "Bearer " + key else "bad"
        with open(log_file, "a") as f:
            f.write("GET %s auth=%s\n" % (self.path, auth))
        if self.path == "/api/v1/posts/42/results":
            polls["n"] += 1
            status = "published" if mode == "publish" and polls["n"] > 1 else "publishing"
            data = {"post_id": "42", "post_status": status,
                    "results": [dest(1, "x", status), dest(2, "linkedin", status)]}
            code, body = 200, {"data": data, "error": None, "meta": {"request_id": "r%d" % polls["n"]}}
        elif self.path == "/api/v1/posts/42":
            code, body = 200, {"data": {"post_id": "42", "status": "publishing"}, "error": None, "meta": {}}
        else:
            code, body = 404, {"data": None, "error": {"code": "not_found", "message": "no"}, "meta": {}}
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os; os.replace(port_file + ".tmp", port_file)
server.serve_forever()
PY

# The runner's GITHUB_OUTPUT parser (actions/runner FileCommandManager, Linux rules):
# prints the outputs as one JSON object, or fails like the runner would.
cat >"$W/outputs.py" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
lines, out, i = text.split("\n"), {}, 0
while i < len(lines):
    line = lines[i]
    if line == "":
        i += 1
        continue
    eq, hd = line.find("="), line.find("<<")
    if eq >= 0 and (hd < 0 or eq < hd):
        out[line[:eq]] = line[eq + 1:]
        i += 1
        continue
    if hd < 0:
        sys.exit("Invalid format: %r" % line)
    name, delim = line[:hd], line[hd + 2:]
    if not name or not delim:
        sys.exit("Invalid format: %r" % line)
    j = i + 1
    while j < len(lines) and lines[j] != delim:
        j += 1
    if j >= len(lines):
        sys.exit("Matching delimiter not found: %r" % delim)
    if j == len(lines) - 1:
        sys.exit("EOF marker missing new line")
    out[name] = "\n".join(lines[i + 1:j])
    i = j + 1
json.dump(out, sys.stdout)
PY

start_server() { # start_server MODE NAME [CERT KEY] -> sets PORT
  "${PY:-python3}" "$W/server.py" "$1" "$W/$2.port" "$W/$2.requests" "$KEY" "${@:3}" &
  PIDS="$PIDS $!"
  for _ in $(seq 1 100); do
    [ -s "$W/$2.port" ] && break
    sleep 0.1
  done
  PORT=$(cat "$W/$2.port")
}

KEY="pe_live_containertest_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export KEY
INPUT_NAMES=$("$BIN" --help | awk '/^INPUTS/ { on = 1; next } on && /^$/ { exit } on && $1 != "env:" { print $1 }')

# run_action NAME [-d] [INPUT=value...]: docker-run like the runner, for test NAME.
# Every input of --help is passed (empty unless given); the key by name from the environment.
run_action() {
  local name=$1 detach="" n upper given args=() kv
  shift
  if [ "${1:-}" = -d ]; then
    detach=-d
    shift
  fi
  local t="$W/$name"
  mkdir -p "$t/workspace" "$t/file_commands" "$t/home" "$t/workflow" "$t/runner_temp"
  echo '{}' >"$t/workflow/event.json"
  : >"$t/file_commands/set_output_$name"
  : >"$t/file_commands/step_summary_$name"
  for n in $INPUT_NAMES; do
    upper=$(printf '%s' "$n" | tr '[:lower:]' '[:upper:]')
    [ "$n" = api-key ] && continue
    given=""
    for kv in "$@"; do
      case "$kv" in "$n="*) given=${kv#*=} ;; esac
    done
    args+=(-e "INPUT_$upper=$given")
  done
  CONTAINERS="$CONTAINERS pew-ct-$name-$RUN_ID"
  env "INPUT_API-KEY=$KEY" podman run $detach --name "pew-ct-$name-$RUN_ID" --network host \
    --workdir /github/workspace \
    -v "$t/workspace:/github/workspace" -v "$t/file_commands:/github/file_commands" \
    -v "$t/home:/github/home" -v "$t/workflow:/github/workflow" -v "$t/runner_temp:/github/runner_temp" \
    -e "INPUT_API-KEY" "${args[@]}" \
    -e HOME=/github/home -e GITHUB_ACTIONS=true -e CI=true \
    -e GITHUB_WORKSPACE=/github/workspace -e GITHUB_EVENT_PATH=/github/workflow/event.json \
    -e "GITHUB_OUTPUT=/github/file_commands/set_output_$name" \
    -e "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_$name" \
    -e RUNNER_OS=Linux -e RUNNER_ARCH=X64 -e RUNNER_TEMP=/github/runner_temp \
    "$IMAGE"
}

outputs_json() { "${PY:-python3}" "$W/outputs.py" "$W/$1/file_commands/set_output_$1"; }
parses() { outputs_json "$1" >/dev/null; }
output_is() { # output_is NAME OUTPUT EXPECTED
  local got
  got=$(outputs_json "$1" | "${PY:-python3}" -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], "<missing>"), end="")' "$2")
  if [ "$got" = "$3" ]; then return 0; fi
  echo "    $2: got '$got', expected '$3'"
  return 1
}
# The key may appear only in the ::add-mask:: line that registers it with the runner.
key_nowhere() { ! grep -rhF -- "$KEY" "$W/$1" "$W/$1.log" 2>/dev/null | grep -vqxF "::add-mask::$KEY"; }
is() { [ "$1" = "$2" ]; }

# ---------------------------------------------------------------- 1. publishes
section "a post that publishes: outputs, summary, results file, exit 0"
f=$fails
start_server publish publish
rc=0
run_action publish "post-id=42" "base-url=http://127.0.0.1:$PORT/api/v1" "poll-interval=200ms" \
  "timeout=30" "results-file=results.json" >"$W/publish.log" 2>&1 || rc=$?
check "exit code 0" is "$rc" 0
check "GITHUB_OUTPUT parses like the runner's parser" parses publish
check "status=published" output_is publish status published
check "exit-code=0" output_is publish exit-code 0
check "total-count=2" output_is publish total-count 2
check "published-count=2" output_is publish published-count 2
check "failed-count=0" output_is publish failed-count 0
check "pending-count=0" output_is publish pending-count 0
check "published-urls, one per line" output_is publish published-urls "$(printf 'https://x.example/p/1\nhttps://linkedin.example/p/2')"
check "failed-platforms empty" output_is publish failed-platforms ""
check "retried-count=0" output_is publish retried-count 0
check "message empty" output_is publish message ""
check "results is a JSON array of 2 destinations" eval \
  "outputs_json publish | ${PY:-python3} -c 'import json,sys; r=json.loads(json.load(sys.stdin)[\"results\"]); assert len(r)==2 and r[0][\"status\"]==\"published\"'"
check "job summary written" test -s "$W/publish/file_commands/step_summary_publish"
check "results-file written in the workspace (workdir)" eval \
  "${PY:-python3} -c 'import json,sys; assert json.load(open(sys.argv[1]))[\"status\"]==\"published\"' '$W/publish/workspace/results.json'"
check "hyphenated INPUT_API-KEY reached the API (every request authorised)" eval \
  "! grep -q 'auth=bad' '$W/publish.requests' && grep -q 'auth=ok' '$W/publish.requests'"
check "hyphenated INPUT_POST-ID / INPUT_BASE-URL used" grep -q "GET /api/v1/posts/42/results" "$W/publish.requests"
check "the key appears in no output, summary, results file or log (but ::add-mask::)" key_nowhere publish
if [ "$fails" -gt "$f" ]; then sed 's/^/  | /' "$W/publish.log"; fi

# ---------------------------------------------------------------- 2. SIGTERM
section "a post that stays pending: SIGTERM ends the container cleanly within 2 s"
f=$fails
start_server pending pending
run_action term -d "post-id=42" "base-url=http://127.0.0.1:$PORT/api/v1" "poll-interval=1s" \
  "timeout=120" >/dev/null
for _ in $(seq 1 100); do
  grep -q results "$W/pending.requests" 2>/dev/null && break
  sleep 0.1
done
sleep 0.3
check "the wait was under way (API polled)" grep -q "GET /api/v1/posts/42/results" "$W/pending.requests"
t0=$(date +%s%N)
podman kill --signal TERM "pew-ct-term-$RUN_ID" >/dev/null
code=$(podman wait "pew-ct-term-$RUN_ID")
t1=$(date +%s%N)
ELAPSED_MS=$(((t1 - t0) / 1000000))
podman logs "pew-ct-term-$RUN_ID" >"$W/term.log" 2>&1 || true
check "exit code 143 (got $code)" is "$code" 143
check "stopped within 2 s of SIGTERM (${ELAPSED_MS} ms)" test "$ELAPSED_MS" -lt 2000
check "status=cancelled" output_is term status cancelled
check "exit-code=143" output_is term exit-code 143
check "pending-count=2 (last known state)" output_is term pending-count 2
check "message says why" eval "! output_is term message '' >/dev/null"
check "the key appears in no output, summary or log (but ::add-mask::)" key_nowhere term
if [ "$fails" -gt "$f" ]; then sed 's/^/  | /' "$W/term.log"; fi

# ---------------------------------------------------------------- 3. config error
section "no post-id: configuration error"
f=$fails
rc=0
run_action noid "base-url=http://127.0.0.1:$PORT/api/v1" >"$W/noid.log" 2>&1 || rc=$?
check "exit code 2 (got $rc)" is "$rc" 2
check "names the input" grep -q "post-id" "$W/noid.log"
if [ "$fails" -gt "$f" ]; then sed 's/^/  | /' "$W/noid.log"; fi

# ---------------------------------------------------------------- 4. HTTPS, no CA file
section "HTTPS in an image with no CA file: SSL_CERT_FILE trusted, else refused before any request"
f=$fails
mkdir -p "$W/tls"
(
  cd "$W/tls" || exit 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Container Test CA"
  openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=localhost"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >ext.cnf
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext.cnf
) >/dev/null 2>&1
start_server publish tls "$W/tls/srv.pem" "$W/tls/srv.key"
https_run() { # https_run NAME [podman args...]: one wait against the TLS server
  local name=$1
  shift
  rc=0
  env "POSTEVERYWHERE_API_KEY=$KEY" podman run --rm --network host -v "$W/tls:/certs:ro" "$@" \
    -e POSTEVERYWHERE_API_KEY -e POSTEVERYWHERE_POST_ID=42 -e POSTEVERYWHERE_POLL_INTERVAL=200ms \
    -e POSTEVERYWHERE_MAX_ERRORS=1 -e "POSTEVERYWHERE_BASE_URL=https://localhost:$PORT/api/v1" \
    "$IMAGE" >"$W/$name.log" 2>&1 || rc=$?
}
https_run untrusted
check "no CA given: exit 4 (got $rc)" is "$rc" 4
check "no CA given: the certificate is refused, the client started" eval \
  "grep -q 'invalid peer certificate' '$W/untrusted.log' && ! grep -q 'cannot set up' '$W/untrusted.log'"
check "no CA given: no request reached the server" test ! -s "$W/tls.requests"
https_run trusted -e SSL_CERT_FILE=/certs/ca.pem
check "SSL_CERT_FILE: exit 0 (got $rc)" is "$rc" 0
check "SSL_CERT_FILE: the API was polled with the key" grep -q "GET /api/v1/posts/42/results auth=ok" "$W/tls.requests"
check "the key appears in no log" eval "! grep -qF -- '$KEY' '$W/untrusted.log' '$W/trusted.log'"
if [ "$fails" -gt "$f" ]; then sed 's/^/  | /' "$W/untrusted.log" "$W/trusted.log"; fi

printf '\nmusl binary: %s bytes; test image (FROM scratch): %s bytes (%s MiB)\n' "$BIN_BYTES" "$IMAGE_BYTES" \
  "$(awk -v b="$IMAGE_BYTES" 'BEGIN { printf "%.2f", b / 1048576 }')"
printf 'container-test: %d passed, %d failed\n' "$passes" "$fails"
[ "$fails" -eq 0 ]
