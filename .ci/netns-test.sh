#!/usr/bin/env bash
# `localhost` is pinned to the loopback addresses. In a private network and mount namespace
# (no network at all) whose hosts file maps `localhost` to another address, a run against
# http://localhost:PORT must reach 127.0.0.1:PORT, and the other address must get no request
# (it would get the key over plain http). Needs root (CI runs as root).
# Usage: .ci/netns-test.sh path/to/posteverywhere-wait
set -euo pipefail
bin=$(realpath "${1:?usage: $0 BINARY}")
if [ -z "${PEW_IN_NETNS:-}" ]; then
  exec env PEW_IN_NETNS=1 unshare --mount --net bash "$0" "$bin"
fi
ip link set lo up
ip addr add 10.99.0.1/32 dev lo
hosts=$(mktemp)
trap 'rm -f "$hosts"' EXIT
echo "10.99.0.1 localhost" >"$hosts"
mount --bind "$hosts" /etc/hosts
getent hosts localhost | grep -q '^10\.99\.0\.1 ' || { echo "the namespace's hosts file did not take" >&2; exit 1; }
python3 - "$bin" <<'PY'
import http.server, json, os, subprocess, sys, threading

seen = {"127.0.0.1": [], "10.99.0.1": []}
body = json.dumps({"data": {"results": [{"platform": "x", "account_id": 1, "status": "published"}]}}).encode()

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen[self.server.server_address[0]].append((self.path, self.headers.get("Authorization") is not None))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

loop = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
port = loop.server_address[1]
other = http.server.ThreadingHTTPServer(("10.99.0.1", port), H)
for s in (loop, other):
    threading.Thread(target=s.serve_forever, daemon=True).start()
env = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "POSTEVERYWHERE_API_KEY": "pe_live_0123456789abcdef0123456789abcdef",
    "POSTEVERYWHERE_POST_ID": "post_1",
    "POSTEVERYWHERE_BASE_URL": f"http://localhost:{port}/api/v1",
    "POSTEVERYWHERE_TIMEOUT": "10s",
}
run = subprocess.run([sys.argv[1]], env=env, capture_output=True, text=True, timeout=30)
print(f"exit {run.returncode}; requests at 127.0.0.1: {len(seen['127.0.0.1'])}, at 10.99.0.1 (localhost in the hosts file): {len(seen['10.99.0.1'])}")
assert not seen["10.99.0.1"], f"the key went to a machine the hosts file calls localhost: {seen['10.99.0.1']}"
assert run.returncode == 0 and seen["127.0.0.1"], run.stdout + run.stderr
print("localhost is pinned to loopback")
PY
