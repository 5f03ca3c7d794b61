"""Plumbing for bench/run.py: the scripted results API, starting the tools through
`measure`, and instruction counts through callgrind.

Clocks: every time here is CLOCK_REALTIME in nanoseconds. `measure` stamps a tool's exec and
exit; the server takes each request's arrival time from the kernel (SO_TIMESTAMPNS on the
socket), not from when Python got round to parsing it. So "exec → first request" is exec to
the first request bytes reaching the server's socket.
"""

import glob
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import tomllib

import runner_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_DIR = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
OUT = os.path.join(ROOT, "bench", "out")
MEASURE = os.path.join(OUT, "measure")
KEY = "pe_live_0123456789abcdef0123456789abcdef"
PLATFORMS = ["instagram", "x", "linkedin", "facebook", "threads", "tiktok", "youtube"]
MUSL, GNU = "x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu"
TOOLS = ["ours", "floor", "bash", "node"]
NAMES = {"ours": "posteverywhere-wait", "floor": "floor", "bash": "bash + curl + jq", "node": "node"}
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable"}


def binary(name, target):
    """Path of a release binary: the host build lives in target/release, musl in its triple."""
    sub = ["release"] if target == GNU else [target, "release"]
    return os.path.join(TARGET_DIR, *sub, name)


FLOOR_MANIFEST = os.path.join(ROOT, "bench", "floor", "Cargo.toml")


def same_profile():
    """Exits when the floor's release profile is not the tool's: a floor built otherwise (for
    example at opt-level 3 where the tool builds the TLS crates for size) makes every size and
    instruction ratio compare two profiles, not two programs."""
    def release(path):
        with open(path, "rb") as f:
            return tomllib.load(f).get("profile", {}).get("release")
    ours, floor = release(os.path.join(ROOT, "Cargo.toml")), release(FLOOR_MANIFEST)
    if ours != floor:
        raise SystemExit(f"bench: {os.path.relpath(FLOOR_MANIFEST, ROOT)}'s [profile.release] differs from "
                         "Cargo.toml's; copy the root's so both programs are built alike")


# ---------------------------------------------------------------- the results API


def destination(post, i, status, retry_at=None):
    platform_name = PLATFORMS[i % len(PLATFORMS)]
    published = status == "published"
    return {
        "account_id": 2000 + i, "account_name": f"@acct{i}", "platform": platform_name, "status": status,
        "platform_post_url": f"https://{platform_name}.example/p/{post}/{i}" if published else None,
        "error": "Platform returned 503" if status == "failed" else None,
        "attempts": 1, "next_retry_at": retry_at,
    }


def envelope(post, dests):
    """A results answer; its post_status derived from `dests` as PostEverywhere derives it."""
    words = [d["status"] for d in dests]
    if not words or any(w not in ("published", "failed") for w in words):
        post_status = "publishing"
    elif "failed" not in words:
        post_status = "published"
    else:
        post_status = "failed" if "published" not in words else "partially_failed"
    return {"data": {"post_id": post, "post_status": post_status, "results": dests}, "error": None,
            "meta": {"request_id": "bench"}}


# The floor does not decode: it polls until this text is gone from the body.
PENDING_TEXT = '"status":"publishing"'


class Scenario:
    """Answers requests; `plan(post, n, at_ns)` gives (status, headers, body) for poll n."""

    def __init__(self, plan):
        self.plan = plan
        self.polls = {}
        self.first = {}  # post -> arrival of its first request
        self.requests = []  # (arrival ns, method, path)
        self.lock = threading.Lock()

    def answer(self, at, method, path):
        parts = path.split("/")
        post = parts[4] if len(parts) >= 6 else ""
        with self.lock:
            self.requests.append((at, method, path))
            n = self.polls.get(post, 0)
            self.polls[post] = n + 1
            self.first.setdefault(post, at)
        return self.plan(post, n, at)


class Server:
    """HTTP/1.1 on 127.0.0.1, a thread per connection, keep-alive. Each answer is sent in one
    write on a TCP_NODELAY socket, so no tool waits on Nagle's algorithm."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # inherited by accepted sockets
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.scenario = Scenario(lambda *a: (404, {}, b"{}"))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}/api/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def play(self, plan):
        self.scenario = Scenario(plan)
        return self.scenario

    def url(self, post):
        return f"{self.base}/posts/{post}/results"

    def _accept(self):
        while True:
            conn, _ = self.sock.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _recv(conn):
        """Reads what is there; returns (bytes, kernel arrival time in ns)."""
        data, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(16))
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", raw[:16])
                return data, sec * 1_000_000_000 + nsec
        return data, time.time_ns()

    def _serve(self, conn):
        buf, at = b"", None
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data, t = self._recv(conn)
                    if not data:
                        return
                    at = at or t
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
                length = int(headers.get("content-length", "0"))
                while len(buf) < length:
                    data, _ = self._recv(conn)
                    if not data:
                        return
                    buf += data
                buf = buf[length:]
                status, extra, body = self.scenario.answer(at, method, path)
                data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
                extra = {"Content-Type": "application/json", **extra}
                lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", f"Content-Length: {len(data)}"]
                lines += [f"{k}: {v}" for k, v in extra.items()]
                conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
                at = None
                if headers.get("connection", "").lower() == "close":
                    return
        except (OSError, ValueError):
            pass
        finally:
            conn.close()


# ---------------------------------------------------------------- the tools


def command(variant, bins, server, posts, interval, floor_stop=("polls", 1)):
    """argv for one tool. A variant is a tool name, with `@gnu` for the glibc build of ours
    or the floor. `floor_stop` is ("polls", n) or ("until", text) for the floor."""
    tool = variant.split("@")[0]
    if tool == "ours":
        return [bins[variant]]
    if tool == "floor":
        how = ["--polls", str(floor_stop[1])] if floor_stop[0] == "polls" else ["--until-absent", floor_stop[1]]
        return [bins[variant], *how, "--interval-ms", str(round(interval * 1000))] + [server.url(p) for p in posts]
    script = os.path.join(ROOT, "bench", "baseline", "poll.sh" if tool == "bash" else "poll.mjs")
    run = ["bash", script] if tool == "bash" else ["node", script]
    if len(posts) == 1:
        return run
    # What a person does by hand for many posts: the loop once per post, one after another.
    loop = 'for id in $POST_IDS; do POST_ID=$id "$@" || exit; done'
    return ["bash", "-c", loop, "loop", *run]


def environment(variant, server, posts, interval, timeout, rate_limit=600):
    tool = variant.split("@")[0]
    # Every tool starts in a CI step's environment (bench/runner_env.py), not a near-empty one.
    env = dict(runner_env.RUNNER)
    env.update({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
                "POSTEVERYWHERE_API_KEY": KEY})
    if tool == "ours":
        env.update({
            "POSTEVERYWHERE_BASE_URL": server.base, "POSTEVERYWHERE_POST_ID": " ".join(posts),
            "POSTEVERYWHERE_POLL_INTERVAL": f"{round(interval * 1000)}ms",
            "POSTEVERYWHERE_TIMEOUT": f"{timeout}s", "POSTEVERYWHERE_RATE_LIMIT": str(rate_limit),
        })
    elif tool in ("bash", "node"):
        env.update({"POSTEVERYWHERE_BASE_URL": server.base, "POST_ID": posts[0], "POST_IDS": " ".join(posts),
                    "POLL_INTERVAL": f"{interval:g}", "TIMEOUT": str(int(timeout))})
    return env


class Running:
    """A tool started through `measure`; `finish()` waits and returns its figures."""

    def __init__(self, argv, env, limit):
        fd, self.result = tempfile.mkstemp(prefix="measure.", dir=OUT)
        os.close(fd)
        self.p = subprocess.Popen([MEASURE, self.result, *argv], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        self.killer = threading.Timer(limit, self.p.kill)
        self.killer.start()

    def finish(self):
        out = self.p.stdout.read()
        self.p.wait()
        self.killer.cancel()
        with open(self.result) as f:
            code, rss, cpu, exec_ns, end_ns = f.read().split()
        os.unlink(self.result)
        return {"code": int(code), "rss_kb": int(rss), "cpu": float(cpu), "exec": int(exec_ns),
                "end": int(end_ns), "out": out.decode(errors="replace")}


def read_from_disk(paths):
    """Drops the files' pages from the page cache, so the next exec reads them from disk.

    Peak RSS depends on how a binary's pages sit in the page cache, not only on the binary:
    the kernel maps whole cached folios around each fault, and a file the linker just wrote
    is cached in larger folios than one read back from disk. Measured 2026-12-06 on the same
    musl binaries (one-poll run): just linked 1524 kB, just copied 1348 kB (the floor 852),
    read from disk 1264 kB (the floor 964). A run that rebuilds one tool and not the other
    would compare two states; every tool starts from the same one instead."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def run(argv, env, limit=120):
    return Running(argv, env, limit).finish()


# ---------------------------------------------------------------- instruction counts


def have_valgrind():
    return shutil.which("valgrind") is not None


def instructions(argv, env, limit=600, valgrind_args=(), until=None):
    """Instructions executed by a command and every process it starts (callgrind `Ir`).
    With `until` (a function name, e.g. `writev`), only those executed before its first
    call: callgrind dumps there, and the first dump is counted (None if it never ran)."""
    with tempfile.TemporaryDirectory(dir=OUT) as d:
        vg = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--smc-check=all-non-file",
              f"--callgrind-out-file={d}/cg.%p", *valgrind_args]
        if until:
            vg.append(f"--dump-before={until}")
        p = subprocess.run(vg + argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=limit)
        if p.returncode != 0:
            raise RuntimeError(f"{argv[0]} under callgrind exited {p.returncode}: {p.stderr.decode()[-400:]}")
        files = glob.glob(f"{d}/cg.*")
        if until:
            files = [f for f in files if f.endswith(".1")]
            if not files:
                return None
        total = 0
        for path in files:
            with open(path) as f:
                total += next((int(l.split()[1]) for l in f if l.startswith(("summary:", "totals:"))), 0)
        return total
