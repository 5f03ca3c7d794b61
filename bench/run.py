#!/usr/bin/env python3
"""Benchmarks for posteverywhere-wait, side by side with what users write by hand.

One command:   python3 bench/run.py            (full run, a few minutes)
               python3 bench/run.py --quick    (smoke run for CI, about 30 s; figures are rough)

It builds the release musl binary, starts a scripted results API on 127.0.0.1 (in this
process, so request times and process start times share one clock), and measures:
  1. start-up and footprint: exec to first request, wall time and peak RSS of a wait that
     completes on the first poll, binary size;
  2. reaction latency: the last destination turns final at a random moment; time from then
     to process exit, for 1 s and 10 s poll intervals;
  3. request economy: requests per completed wait, and for 50/200/500 posts in one step the
     most requests in any sliding window against the rate-limit budget, peak RSS, CPU time;
  4. the same against two baselines written from PostEverywhere's polling guide (a bash +
     curl + jq loop and a Node script), with the ratios and which faults each survives.
It prints a Markdown report (also written to bench/out/latest.md). Only loopback is used.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "x86_64-unknown-linux-musl"
BIN = os.path.join(ROOT, "target", TARGET, "release", "posteverywhere-wait")
OUT = os.path.join(ROOT, "bench", "out")
MEASURE = os.path.join(OUT, "measure")
KEY = "pe_live_0123456789abcdef0123456789abcdef"
PLATFORMS = ["instagram", "x", "linkedin", "facebook", "threads", "tiktok", "youtube"]


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
    return {"data": {"post_id": post, "post_status": "publishing", "results": dests}, "error": None,
            "meta": {"request_id": "bench"}}


class Scenario:
    """Answers requests; `plan(post, n, now)` gives (status, headers, body) for poll n."""

    def __init__(self, plan):
        self.plan = plan
        self.polls = {}
        self.requests = []  # (monotonic time, method, path)
        self.lock = threading.Lock()

    def answer(self, method, path):
        now = time.monotonic()
        post = path.split("/")[4] if path.count("/") >= 5 else ""
        with self.lock:
            self.requests.append((now, method, path))
            n = self.polls.get(post, 0)
            self.polls[post] = n + 1
        return self.plan(post, n, now)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        status, headers, body = self.server.scenario.answer("GET", self.path)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.scenario = Scenario(lambda *a: (404, {}, b"{}"))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1"

    def play(self, plan):
        self.httpd.scenario = Scenario(plan)
        return self.httpd.scenario


# ---------------------------------------------------------------- tools


def tool_cmd(tool):
    if tool == "ours":
        return [BIN]
    if tool == "bash":
        return ["bash", os.path.join(ROOT, "bench", "baseline", "poll.sh")]
    return ["node", os.path.join(ROOT, "bench", "baseline", "poll.mjs")]


def tool_env(tool, server, posts, interval, timeout, rate_limit=600):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    if tool == "ours":
        env.update({
            "POSTEVERYWHERE_API_KEY": KEY, "POSTEVERYWHERE_BASE_URL": server.base,
            "POSTEVERYWHERE_POST_ID": " ".join(posts), "POSTEVERYWHERE_POLL_INTERVAL": f"{interval}s",
            "POSTEVERYWHERE_TIMEOUT": f"{timeout}s", "POSTEVERYWHERE_RATE_LIMIT": str(rate_limit),
        })
    else:
        env.update({"POSTEVERYWHERE_API_KEY": KEY, "POSTEVERYWHERE_BASE_URL": server.base,
                    "POST_ID": posts[0], "POLL_INTERVAL": str(interval), "TIMEOUT": str(int(timeout))})
    return env


def run(tool, env, limit=120):
    """Runs a tool through `measure`; returns exec and end times, exit code, peak RSS (KiB),
    CPU seconds and stdout."""
    result = os.path.join(OUT, "measure.result")
    t_exec = time.monotonic()
    p = subprocess.Popen([MEASURE, result] + tool_cmd(tool), env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    killer = threading.Timer(limit, p.kill)
    killer.start()
    out = p.stdout.read()
    p.wait()
    t_end = time.monotonic()
    killer.cancel()
    with open(result) as f:
        code, rss, cpu = f.read().split()
    return {"exec": t_exec, "end": t_end, "code": int(code), "rss_kb": int(rss), "cpu": float(cpu),
            "out": out.decode(errors="replace")}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


# ---------------------------------------------------------------- benchmarks


def all_published(n=3):
    return lambda post, k, now: (200, {}, envelope(post, [destination(post, i, "published") for i in range(n)]))


def startup(server, tool, runs):
    firsts, walls, rss = [], [], []
    for _ in range(runs):
        sc = server.play(all_published())
        r = run(tool, tool_env(tool, server, ["p1"], 1, 30))
        assert r["code"] == 0, (tool, r["code"], r["out"][-500:])
        firsts.append((sc.requests[0][0] - r["exec"]) * 1000)
        walls.append((r["end"] - r["exec"]) * 1000)
        rss.append(r["rss_kb"] / 1024)
    return {"first_ms": med(firsts), "wall_ms": med(walls), "rss_mb": max(rss)}


def latency(server, tool, interval, runs):
    lats, reqs = [], []
    for _ in range(runs):
        flip = {}

        def plan(post, k, now, flip=flip):
            if "at" not in flip:
                flip["at"] = now + random.uniform(0.2 * interval, 2.5 * interval)
            last = "published" if now >= flip["at"] else "publishing"
            dests = [destination(post, 0, "published"), destination(post, 1, "published"), destination(post, 2, last)]
            return 200, {}, envelope(post, dests)

        sc = server.play(plan)
        r = run(tool, tool_env(tool, server, ["p1"], interval, 20 * interval + 10))
        assert r["code"] == 0, (tool, r["out"][-500:])
        lats.append((r["end"] - flip["at"]) * 1000)
        reqs.append(len(sc.requests))
    return {"min": min(lats), "median": med(lats), "max": max(lats), "requests": med(reqs)}


def many(server, posts, rate_limit, window):
    """Ours only: `posts` posts of 7 destinations, each final on its second poll."""
    ids = [f"post{n:04d}" for n in range(posts)]

    def plan(post, k, now):
        status = "publishing" if k == 0 else "published"
        return 200, {}, envelope(post, [destination(post, i, status) for i in range(7)])

    sc = server.play(plan)
    r = run("ours", tool_env("ours", server, ids, 0.05, 600, rate_limit), limit=900)
    assert r["code"] == 0, r["out"][-500:]
    times = sorted(t for t, _, _ in sc.requests)
    most, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        most = max(most, i - j + 1)
    return {"posts": posts, "requests": len(times), "most": most, "rss_mb": r["rss_kb"] / 1024,
            "cpu_s": r["cpu"], "wall_s": r["end"] - r["exec"]}


FAULTS = {
    "429 with Retry-After": lambda post, k, now: (429, {"Retry-After": "1", "Content-Type": "application/json"},
        {"error": {"code": "rate_limited", "message": "Rate limit exceeded", "retryAfter": 1}}) if k == 0 else None,
    "503 twice": lambda post, k, now: (503, {}, {"data": None, "error": {"code": "service_unavailable",
        "message": "down"}}) if k < 2 else None,
    "HTML error page": lambda post, k, now: (502, {"Content-Type": "text/html"},
        b"<html><body><h1>502 Bad Gateway</h1></body></html>") if k == 0 else None,
    "empty destination list": lambda post, k, now: (200, {}, envelope(post, [])) if k < 2 else None,
    "failed, retry scheduled": lambda post, k, now: (200, {}, envelope(post, [
        destination(post, 0, "published"), destination(post, 1, "published"),
        destination(post, 2, "failed", "2099-01-01T00:00:00Z" if k == 0 else None) if k == 0
        else destination(post, 2, "publishing")])) if k < 2 else None,
}


def faults(server, tool):
    verdicts = {}
    for name, fault in FAULTS.items():
        def plan(post, k, now, fault=fault):
            return fault(post, k, now) or all_published()(post, k, now)

        server.play(plan)
        r = run(tool, tool_env(tool, server, ["p1"], 0.2, 20), limit=30)
        urls = all(f"https://{PLATFORMS[i]}.example/p/p1/{i}" in r["out"] for i in range(3))
        if r["code"] == 0 and urls and "Failed on" not in r["out"]:
            verdicts[name] = "✅ survives"
        elif r["code"] == 0:
            verdicts[name] = "❌ wrong result, reported success"
        else:
            verdicts[name] = f"❌ exit {r['code']}"
    return verdicts


# ---------------------------------------------------------------- report


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu or 'unknown CPU'}"


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()
    except (OSError, IndexError):
        return "missing"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: few repetitions, short intervals")
    ap.add_argument("--no-build", action="store_true", help="use the existing release musl binary")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "--target", TARGET, "-q"], cwd=ROOT, check=True)
    os.makedirs(OUT, exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", MEASURE, os.path.join(ROOT, "bench", "measure.c")], check=True)
    tools = ["ours", "bash", "node"]
    server = Server()
    quick = args.quick
    lines = []
    say = lines.append

    say(f"Machine: {machine()}; bash {version(['bash', '--version']).split()[3]}, "
        f"curl {version(['curl', '--version']).split()[1]}, {version(['jq', '--version'])}, node {version(['node', '--version'])}.")
    say(f"Command: `python3 bench/run.py{' --quick' if quick else ''}`{' (quick: rough figures)' if quick else ''}.\n")

    size = os.path.getsize(BIN) / (1024 * 1024)
    runs = 5 if quick else 30
    st = {t: startup(server, t, runs) for t in tools}
    say(f"### Start-up and footprint (one post, complete on the first poll; median of {runs} runs)\n")
    say("| | exec → first request | total wall time | peak RSS |")
    say("|---|---|---|---|")
    for t in tools:
        say(f"| {t} | {st[t]['first_ms']:.1f} ms | {st[t]['wall_ms']:.1f} ms | {st[t]['rss_mb']:.1f} MB |")
    say(f"\nStatic release binary: {size:.2f} MB ({TARGET}).\n")

    intervals = [0.2, 1.0] if quick else [1.0, 10.0]
    lat_runs = 3 if quick else {1.0: 12, 10.0: 4}
    lat = {}
    say("### Reaction latency (last destination turns final at a random moment → process exit)\n")
    say("Ours runs with `rate-limit: 600` so the step budget never spaces polls beyond the interval.\n")
    say("| | interval | runs | min | median | max | requests per wait |")
    say("|---|---|---|---|---|---|---|")
    for iv in intervals:
        n = lat_runs if quick else lat_runs[iv]
        for t in tools:
            lat[(t, iv)] = latency(server, t, iv, n)
            l = lat[(t, iv)]
            say(f"| {t} | {iv:g} s | {n} | {l['min']:.0f} ms | {l['median']:.0f} ms | {l['max']:.0f} ms | {l['requests']:.0f} |")

    scale = 60
    say(f"\n### Many posts in one step (ours; 7 destinations each, final on the second poll)\n")
    say(f"Time is scaled {scale}×: `rate-limit: {50 * scale}` per minute is checked over "
        f"{60 / scale:g} s sliding windows against a budget of 50, i.e. the default 50 a minute.\n")
    say("| posts | requests | most in any window | budget | peak RSS | CPU time | wall time |")
    say("|---|---|---|---|---|---|---|")
    sizes = [50, 200] if quick else [50, 200, 500]
    for n in sizes:
        m = many(server, n, 50 * scale, 60 / scale)
        say(f"| {n} | {m['requests']} | {m['most']} | 50 | {m['rss_mb']:.1f} MB | {m['cpu_s']:.2f} s | {m['wall_s']:.1f} s |")

    say("\n### Side by side (ratio ours / baseline; lower is better)\n")
    say("| baseline | exec → first request | peak RSS | max reaction latency (1 s) |")
    say("|---|---|---|---|")
    iv = 1.0
    for t in ["bash", "node"]:
        say(f"| {t} | {st['ours']['first_ms'] / st[t]['first_ms']:.2f} | {st['ours']['rss_mb'] / st[t]['rss_mb']:.2f} "
            f"| {lat[('ours', iv)]['max'] / lat[(t, iv)]['max']:.2f} |")

    say("\n### Faults (the post publishes after the fault; does the tool report all three links?)\n")
    verdicts = {t: faults(server, t) for t in tools}
    say("| fault | " + " | ".join(tools) + " |")
    say("|---|" + "---|" * len(tools))
    for name in FAULTS:
        say(f"| {name} | " + " | ".join(verdicts[t][name] for t in tools) + " |")

    report = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "latest.md"), "w") as f:
        f.write(report)
    print(report)
    # Sanity for CI smoke runs: ours must survive every fault.
    bad = [k for k, v in verdicts["ours"].items() if not v.startswith("✅")]
    if bad:
        print(f"posteverywhere-wait did not survive: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
