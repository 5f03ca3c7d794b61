#!/usr/bin/env python3
"""Benchmarks for posteverywhere-wait next to its floor and the loops users write by hand.

One command:   python3 bench/run.py            (full run, about ten minutes)
               python3 bench/run.py --quick    (smoke run for CI, about a minute; rough figures)

It builds the release binaries of the tool and of the floor (bench/floor: the least a program
can do to poll the same API with the same HTTP stack), starts a scripted results API on
127.0.0.1 (in this process), and measures, for the tool, the floor, a bash + curl + jq loop
and a Node script (both written from PostEverywhere's polling guide, bench/baseline/):
  1. start-up and footprint: exec to the first request reaching the server, wall time and
     peak RSS of a wait that completes on the first poll, binary size;
  2. instructions (callgrind, repeatable on a noisy machine): a whole one-poll run, and per
     poll, (I(N polls) - I(1 poll)) / (N - 1);
  3. reaction latency: the last destination turns final at a fixed grid of moments after the
     first request (the same grid for every tool, all tools run at once for each point);
     time from then to process exit;
  4. many posts: requests, the most in any 60 s window (time scaled) against the budget,
     peak RSS, CPU and wall time;
  5. which faults each tool survives.
Every ratio comes from figures of the same run. It prints a Markdown report (also written to
bench/out/latest.md). Only loopback is used. --quick measures the musl builds only and skips
the baselines' instruction counts (Node under callgrind takes a while).
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import report  # noqa: E402

TARGETS = {"exec_ms": 1.2, "rss_mb": 1.2, "size_mb": 1.2, "per_poll": 1.5, "one_poll": 1.4}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def all_published(n=3):
    return lambda post, k, at: (200, {}, h.envelope(post, [h.destination(post, i, "published") for i in range(n)]))


def last_pending_until(done):
    """Two destinations published; the third publishes when `done(post, k, at)` says so."""
    def plan(post, k, at):
        last = "published" if done(post, k, at) else "publishing"
        dests = [h.destination(post, 0, "published"), h.destination(post, 1, "published"),
                 h.destination(post, 2, last)]
        return 200, {}, h.envelope(post, dests)
    return plan


# ---------------------------------------------------------------- 1. start-up and footprint


def startup(server, bins, variants, runs):
    """One post complete on the first poll. Runs alternate between variants (rotating the
    order), so drifting machine load hits every tool alike; every binary starts read from
    disk (`h.read_from_disk`)."""
    h.read_from_disk(bins[v] for v in variants if v in bins)
    firsts = {v: [] for v in variants}
    walls = {v: [] for v in variants}
    rss = {v: [] for v in variants}
    for n in range(runs):
        order = variants[n % len(variants):] + variants[:n % len(variants)]
        for v in order:
            sc = server.play(all_published())
            r = h.run(h.command(v, bins, server, ["p1"], 1), h.environment(v, server, ["p1"], 1, 30))
            assert r["code"] == 0, (v, r["code"], r["out"][-500:])
            firsts[v].append((sc.first["p1"] - r["exec"]) / 1e6)
            walls[v].append((r["end"] - r["exec"]) / 1e6)
            rss[v].append(r["rss_kb"] / 1024)
    return {v: {"exec_ms": med(firsts[v]), "wall_ms": med(walls[v]), "rss_mb": max(rss[v])} for v in variants}


# ---------------------------------------------------------------- 2. instructions


def instructions(server, bins, variant, polls, reps):
    """(instructions of a one-poll run, instructions per poll), medians of `reps` runs."""
    def count(n):
        done = last_pending_until(lambda post, k, at: k >= n - 1)
        interval = 0.01 if variant.split("@")[0] in ("ours", "floor") else 0.05
        runs = []
        for _ in range(reps):
            server.play(done)
            argv = h.command(variant, bins, server, ["p1"], interval, ("polls", n))
            runs.append(h.instructions(argv, h.environment(variant, server, ["p1"], interval, 600, 60000)))
        return med(runs)
    one, many = count(1), count(polls)
    out = {"one_poll": one, "per_poll": (many - one) / (polls - 1), "polls": polls}
    if variant.endswith("@gnu"):
        # Up to the request's first write (hyper writes it with writev; only the dynamic
        # glibc builds let callgrind see that symbol).
        server.play(all_published())
        argv = h.command(variant, bins, server, ["p1"], 1)
        out["to_first"] = h.instructions(argv, h.environment(variant, server, ["p1"], 1, 30), until="writev")
    return out


# ---------------------------------------------------------------- 3. reaction latency


def latency(server, bins, variants, interval, points):
    """For each point of the grid, every variant waits on its own post at the same time; the
    post's last destination turns final `phase` after that post's first request."""
    phases = [interval * (0.2 + 2.3 * (k + 0.5) / points) for k in range(points)]
    lats = {v: [] for v in variants}
    reqs = {v: [] for v in variants}
    for k, phase in enumerate(phases):
        posts = {v: f"lat{k}{v.replace('@', '')}" for v in variants}
        sc = server.play(last_pending_until(lambda post, n, at: at >= sc.first[post] + phase * 1e9))
        running = {v: h.Running(h.command(v, bins, server, [posts[v]], interval, ("until", h.PENDING_TEXT)),
                                h.environment(v, server, [posts[v]], interval, 20 * interval + 10), 40 * interval + 30)
                   for v in variants}
        for v, p in running.items():
            r = p.finish()
            assert r["code"] == 0, (v, r["code"], r["out"][-500:])
            lats[v].append((r["end"] - (sc.first[posts[v]] + phase * 1e9)) / 1e6)
            reqs[v].append(sc.polls[posts[v]])
    return {v: {"min": min(lats[v]), "median": med(lats[v]), "mean": statistics.mean(lats[v]), "max": max(lats[v]),
                "requests": sum(reqs[v])} for v in variants}


# ---------------------------------------------------------------- 4. many posts

SCALE = 60  # time runs 60x faster: a 60 s window is 1 s


def many(server, bins, variant, posts, rate_limit):
    """`posts` posts of 7 destinations, each final on its second poll. Ours is told the
    scaled budget; the floor polls without pacing; the baselines run once per post, in turn."""
    ids = [f"post{n:04d}" for n in range(posts)]

    def plan(post, k, at):
        status = "publishing" if k == 0 else "published"
        return 200, {}, h.envelope(post, [h.destination(post, i, status) for i in range(7)])

    sc = server.play(plan)
    interval = {"ours": 0.05, "floor": 0.0}.get(variant.split("@")[0], 10 / SCALE)
    argv = h.command(variant, bins, server, ids, interval, ("polls", 2))
    r = h.run(argv, h.environment(variant, server, ids, interval, 3600, rate_limit * SCALE), limit=3600)
    assert r["code"] == 0, (variant, r["out"][-500:])
    times = sorted(t for t, _, _ in sc.requests)
    most, j, window = 0, 0, 60e9 / SCALE
    for i, t in enumerate(times):
        while times[j] <= t - window:
            j += 1
        most = max(most, i - j + 1)
    return {"requests": len(times), "most": most, "rss_mb": r["rss_kb"] / 1024, "cpu_s": r["cpu"],
            "wall_s": (r["end"] - r["exec"]) / 1e9}


# ---------------------------------------------------------------- 5. faults

FAULTS = {
    "429 with Retry-After": lambda post, k, at: (429, {"Retry-After": "1"},
        {"error": {"code": "rate_limited", "message": "Rate limit exceeded", "retryAfter": 1}}) if k == 0 else None,
    "503 twice": lambda post, k, at: (503, {}, {"data": None, "error": {"code": "service_unavailable",
        "message": "down"}}) if k < 2 else None,
    "HTML error page": lambda post, k, at: (502, {"Content-Type": "text/html"},
        b"<html><body><h1>502 Bad Gateway</h1></body></html>") if k == 0 else None,
    "empty destination list": lambda post, k, at: (200, {}, h.envelope(post, [])) if k < 2 else None,
    "failed, retry scheduled": lambda post, k, at: (200, {}, h.envelope(post, [
        h.destination(post, 0, "published"), h.destination(post, 1, "published"),
        h.destination(post, 2, "failed", "2099-01-01T00:00:00Z" if k == 0 else None) if k == 0
        else h.destination(post, 2, "publishing")])) if k < 2 else None,
}


def faults(server, bins, tool):
    verdicts = {}
    for name, fault in FAULTS.items():
        server.play(lambda post, k, at, fault=fault: fault(post, k, at) or all_published()(post, k, at))
        r = h.run(h.command(tool, bins, server, ["p1"], 0.2), h.environment(tool, server, ["p1"], 0.2, 20), limit=30)
        urls = all(f"https://{h.PLATFORMS[i]}.example/p/p1/{i}" in r["out"] for i in range(3))
        if r["code"] == 0 and urls and "Failed on" not in r["out"]:
            verdicts[name] = "✅ survives"
        elif r["code"] == 0:
            verdicts[name] = "❌ wrong result, reported success"
        else:
            verdicts[name] = f"❌ exit {r['code']}"
    return verdicts


# ---------------------------------------------------------------- main


def build(args):
    cargo = ["cargo", "build", "--release", "--locked", "-q"]
    h.same_profile()
    floor = ["--manifest-path", h.FLOOR_MANIFEST, "--target-dir", h.TARGET_DIR]
    targets = [h.MUSL] if args.quick else [h.MUSL, h.GNU]
    for t in targets:
        triple = [] if t == h.GNU else ["--target", t]
        if not args.no_build:
            subprocess.run(cargo + triple, cwd=h.ROOT, check=True)
        # The floor is always built (a no-op when current): --no-build is about the tool.
        subprocess.run(cargo + floor + triple, cwd=h.ROOT, check=True)
    os.makedirs(h.OUT, exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", h.MEASURE, os.path.join(h.ROOT, "bench", "measure.c")], check=True)
    bins = {}
    for t in targets:
        suffix = "" if t == h.MUSL else "@gnu"
        bins["ours" + suffix] = h.binary("posteverywhere-wait", t)
        bins["floor" + suffix] = h.binary("pew-floor", t)
    return targets, bins


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: musl builds only, few repetitions")
    ap.add_argument("--no-build", action="store_true", help="use the tool's existing release binaries")
    args = ap.parse_args()
    targets, bins = build(args)
    quick = args.quick
    server = h.Server()
    res = {"quick": quick, "targets": targets, "bins": bins, "goals": TARGETS, "scale": SCALE}

    builds = [v for v in bins]
    res["sizes"] = {v: os.path.getsize(p) / (1024 * 1024) for v, p in bins.items()}
    res["runs"] = 5 if quick else 30
    res["startup"] = startup(server, bins, ["ours", "floor", "bash", "node"] + builds[2:], res["runs"])

    # N polls and repetitions (median) per variant. Node's count moves by ~1 M run to run
    # (JIT, GC threads), so it gets three runs; a bash poll costs ~190 M (curl, jq), one run.
    plan = {v: (6, 1) if quick else (11, 3) for v in builds}
    if not quick:
        plan.update({"bash": (6, 1), "node": (6, 3)})
    res["instructions"] = {}
    if h.have_valgrind():
        for v, (polls, reps) in plan.items():
            res["instructions"][v] = instructions(server, bins, v, polls, reps)

    grid = {0.2: 3, 1.0: 3} if quick else {1.0: 12, 10.0: 4}
    res["grid"] = grid
    res["latency"] = {iv: latency(server, bins, h.TOOLS, iv, n) for iv, n in grid.items()}

    res["budget"] = 50
    sizes = [20] if quick else [50, 200, 500]
    res["many"] = {}
    for i, n in enumerate(sizes):
        for v in (h.TOOLS if i == 0 else ["ours", "floor"]):
            res["many"][(n, v)] = many(server, bins, v, n, res["budget"])
    res["sizes_many"] = sizes

    res["faults"] = {t: faults(server, bins, t) for t in ["ours", "bash", "node"]}

    text = report.render(res, machine(), args)
    with open(os.path.join(h.OUT, "latest.md"), "w") as f:
        f.write(text)
    print(text)
    problems = [f"did not survive: {k}" for k, v in res["faults"]["ours"].items() if not v.startswith("✅")]
    over = [n for n in sizes if res["many"][(n, "ours")]["most"] > res["budget"]]
    if over:
        msg = f"more than {res['budget']} requests in a (scaled) 60 s window with {over} posts"
        if quick:
            print(f"warning: {msg} (not failed in --quick: 60x time scaling magnifies jitter)", file=sys.stderr)
        else:
            problems.append(msg)
    for p in problems:
        print(f"posteverywhere-wait: {p}", file=sys.stderr)
    return 1 if problems else 0


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass

    def version(cmd, word):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.split()[word]
        except (OSError, IndexError):
            return "missing"
    tools = (f"bash {version(['bash', '--version'], 3)}, curl {version(['curl', '--version'], 1)}, "
             f"{version(['jq', '--version'], 0)}, node {version(['node', '--version'], 0)}, "
             f"{version(['valgrind', '--version'], 0)}, {version(['rustc', '--version'], 1)}")
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu or 'unknown CPU'}; {tools}"


if __name__ == "__main__":
    sys.exit(main())
