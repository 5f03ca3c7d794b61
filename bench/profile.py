#!/usr/bin/env python3
"""Where posteverywhere-wait's instructions go, per poll and in a one-poll run.

    python3 bench/profile.py                 (the default list of functions)
    python3 bench/profile.py '*my::fn*' ...  (callgrind --toggle-collect patterns)

Builds the release binary with symbols (same profile, not stripped; target dir
target/profile), then, for each pattern, runs it under callgrind with --toggle-collect
against the scripted API of bench/run.py (3 destinations, the last one final on poll N):
"per poll" is (I(N polls) - I(1 poll)) / (N - 1) inside the matching functions and what
they call, "one-poll run" is the whole of a run that completes on its first poll. Inlined
functions have no symbol of their own: their cost is counted in their caller.
"""

import argparse
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the tree
import harness as h  # noqa: E402
import run as bench  # noqa: E402

DEFAULT = [
    ("the request task (URL, send, read, decode, scrub)", "*tokio::runtime::task::raw::poll*"),
    ("  HTTP send and capped read (reqwest, hyper)", "*Client::send_unscrubbed*"),
    ("  decoding the body (api::model::read)", "*api::model::read*"),
    ("  request URL (Client::url, built once per post)", "*Client::url*"),
    ("the main task (app::start: inputs, the wait loop, the report)", "*app::start*"),
    ("  the wait loop (run::run, handle included)", "*run::run*"),
    ("  run::handle (an answer into the post's state, progress)", "*run::handle*"),
    ("  PostWait::decide", "*PostWait::decide*"),
    ("  progress lines (Sink::progress)", "*Sink*Events*progress*"),
    ("  checking the inputs (Config::validate)", "*Config::validate*"),
    ("  scrubbing lines and strings (Redactor::scrub)", "*Redactor::scrub*"),
    ("  the final table's rows (report::table::rows)", "*report::table::rows*"),
    ("the dynamic loader (glibc)", "*_dl_*"),
]


def build():
    target_dir = os.path.join(h.TARGET_DIR, "profile")
    env = dict(os.environ, CARGO_PROFILE_RELEASE_STRIP="false", CARGO_PROFILE_RELEASE_DEBUG="line-tables-only")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "--target-dir", target_dir],
                   cwd=h.ROOT, env=env, check=True)
    return os.path.join(target_dir, "release", "posteverywhere-wait")


def count(server, binary, polls, pattern):
    server.play(bench.last_pending_until(lambda post, k, at: k >= polls - 1))
    env = h.environment("ours", server, ["p1"], 0.002, 600, 60000)
    extra = [f"--toggle-collect={pattern}"] if pattern else []
    return h.instructions([binary], env, valgrind_args=extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--polls", type=int, default=51, help="N, the polls of the long run (default 51)")
    ap.add_argument("patterns", nargs="*", help="callgrind --toggle-collect patterns (default: a list)")
    args = ap.parse_args()
    os.makedirs(h.OUT, exist_ok=True)
    binary = build()
    server = h.Server()
    rows = [(p, p) for p in args.patterns] or DEFAULT
    n = args.polls
    one, many = count(server, binary, 1, None), count(server, binary, n, None)
    per = (many - one) / (n - 1)
    print(f"posteverywhere-wait (glibc, symbols): {per:,.0f} instructions per poll, {one:,.0f} for a one-poll run\n")
    print("| where | per poll | share | one-poll run | share |")
    print("|---|---|---|---|---|")
    for label, pattern in rows:
        a, b = count(server, binary, 1, pattern), count(server, binary, n, pattern)
        p = (b - a) / (n - 1)
        print(f"| {label} (`{pattern}`) | {p:,.0f} | {100 * p / per:.0f} % | {a:,.0f} | {100 * a / one:.0f} % |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
